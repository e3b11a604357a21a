import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {colorEnabled} from '../cli/color.js'
import {formatDuration} from '../config/duration.js'
import {type PidRow, listPids} from '../ops/pids.js'
import {renderTable} from '../render/table.js'

export default class Pids extends BaseCommand<typeof Pids> {
  static override summary = 'One row per worker process found in the store'
  static override description = `For each pid with metric keys under the prefix: how many keys and series, when it last wrote (Redis time of the newest updated_at) and how long ago, the smallest and largest TTL left, keys without TTL, and the exporter's bare-gauge artifacts.

--local checks whether each pid runs on this host. Pids are per host: on a Redis shared by several hosts, a pid may be another host's.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = ['<%= config.bin %> pids', '<%= config.bin %> pids --local', '<%= config.bin %> pids --json | jq \'.[] | select(.ageSeconds > 600) | .pid\'']

  static override flags = {
    local: Flags.boolean({description: 'say whether each pid runs on this host'}),
  }

  async run(): Promise<PidRow[]> {
    const rows = await listPids(await this.redis(), {prefix: this.loaded.config.prefix, local: this.flags.local})
    if (!this.jsonEnabled()) {
      if (rows.length === 0) this.note(`no metric keys under prefix "${this.loaded.config.prefix}"`)
      else {
        const head = ['pid', 'keys', 'series', 'last write', 'ttl min', 'ttl max', 'no ttl', 'artifacts', ...(this.flags.local ? ['local'] : [])]
        const table = rows.map((r) => [
          r.pid,
          r.metricKeys,
          r.series,
          r.ageSeconds === null ? '-' : `${formatDuration(r.ageSeconds * 1000)} ago`,
          r.minTtl === null ? '-' : `${r.minTtl}s`,
          r.maxTtl === null ? '-' : `${r.maxTtl}s`,
          r.keysWithoutTtl,
          r.artifacts,
          ...(this.flags.local ? [r.local ? 'running' : 'not here'] : []),
        ])
        this.log(renderTable(head, table, {color: colorEnabled(process.stdout)}))
      }
    }
    return rows
  }
}
