import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {colorEnabled} from '../cli/color.js'
import {type ConfigRow, describeConfig} from '../ops/config.js'
import {renderTable} from '../render/table.js'

export default class Config extends BaseCommand<typeof Config> {
  static override summary = 'Show the effective configuration and where each value came from'
  static override description = `Reads the REDIS_* environment and the flags (flags win) without connecting. Secrets are never printed.

Precedence, lowest first: defaults, REDIS_URL, the other REDIS_* variables, --url, the other flags.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = ['<%= config.bin %> config', 'REDIS_PORT=6380 <%= config.bin %> config --prefix app:metrics', '<%= config.bin %> config --json']

  async run(): Promise<ConfigRow[]> {
    const rows = describeConfig(this.loaded)
    if (!this.jsonEnabled()) {
      this.log(renderTable(['setting', 'env', 'value', 'source'], rows.map((r) => [r.setting, r.env, r.value, r.source]), {color: colorEnabled(process.stdout)}))
    }
    return rows
  }
}
