import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {colorEnabled} from '../cli/color.js'
import {chooseOutput, formatFlag, wideFlag} from '../cli/output.js'
import {type ConfigRow, describeConfig} from '../ops/config.js'
import {renderTable, renderTsv} from '../render/table.js'

const CONFIG_FORMATS = ['table', 'wide', 'tsv', 'json'] as const

/** --json: one object keyed by setting, so `jq .port.value` reads a setting. */
export type ConfigJson = Record<string, Omit<ConfigRow, 'setting'>>

export default class Config extends BaseCommand<typeof Config> {
  static override summary = 'Show the effective configuration and where each value came from'
  static override description = `Reads the REDIS_* environment and the flags (flags win) without connecting. Secrets are never printed.

Precedence, lowest first: defaults, REDIS_URL, the other REDIS_* variables, --url, the other flags.

A table on a terminal, tab-separated columns in a pipe; --json is an object keyed by setting: {"port": {"env": "REDIS_PORT", "value": 6379, "source": "default"}, …}.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> config',
    '$ REDIS_PORT=6380 <%= config.bin %> config --prefix app:metrics',
    "<%= config.bin %> config --json | jq '.port.value'",
  ]

  static override flags = {
    format: formatFlag(CONFIG_FORMATS, 'table on a terminal, tsv when piped'),
    wide: wideFlag,
  }

  async run(): Promise<ConfigJson> {
    const output = chooseOutput(this.flags, 'tsv')
    const rows = describeConfig(this.loaded)
    if (!this.jsonEnabled()) {
      const head = ['setting', 'env', 'value', 'source']
      const cells = rows.map((r) => [r.setting, r.env, r.value, r.source])
      if (output.format === 'tsv') this.log(renderTsv(head, cells))
      else this.log(renderTable(head, cells, {color: colorEnabled(process.stdout), wide: output.wide}))
    }
    return Object.fromEntries(rows.map(({setting, ...rest}) => [setting, rest]))
  }
}
