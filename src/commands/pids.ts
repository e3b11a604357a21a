import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {colorEnabled} from '../cli/color.js'
import {chooseOutput, formatFlag, wideFlag} from '../cli/output.js'
import {listPids, type PidRow} from '../ops/pids.js'
import {count, duration, localTime} from '../render/human.js'
import {type Column, renderTable, renderTsv} from '../render/table.js'

const PIDS_FORMATS = ['table', 'wide', 'tsv', 'json'] as const

export default class Pids extends BaseCommand<typeof Pids> {
  static override summary = 'One row per worker process found in the store'
  static override description = `For each pid with metric keys under the prefix: how many metric keys (meta keys are not counted: they are per series, not per pid's write) and series, when it last wrote (Redis time of the newest updated_at) and how long ago, the smallest and largest TTL left, keys without TTL, and the exporter's bare-gauge artifacts.

On a terminal a table (-o wide adds the artifacts and the local time of the last write); in a pipe tab-separated columns with a header line and exact numbers (ages in seconds, last_write as Unix seconds) for awk.

--local checks whether each pid runs on this host. Pids are per host: on a Redis shared by several hosts, a pid may be another host's.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> pids',
    '<%= config.bin %> pids --local',
    "<%= config.bin %> pids | awk -F'\\t' 'NR > 1 && $5 > 600 {print $1}'",
    "<%= config.bin %> pids --json | jq '.[] | select(.ageSeconds > 600) | .pid'",
  ]

  static override flags = {
    local: Flags.boolean({description: 'say whether each pid runs on this host'}),
    format: formatFlag(PIDS_FORMATS, 'table on a terminal, tsv when piped'),
    wide: wideFlag,
  }

  async run(): Promise<PidRow[]> {
    const output = chooseOutput(this.flags, 'tsv')
    const rows = await listPids(await this.redis(), {prefix: this.loaded.config.prefix, local: this.flags.local})
    if (!this.jsonEnabled()) {
      const {local} = this.flags
      if (rows.length === 0) this.note(`no metric keys under prefix "${this.loaded.config.prefix}"`)
      else if (output.format === 'tsv') {
        const head = ['pid', 'metric_keys', 'series', 'last_write', 'age_seconds', 'ttl_min', 'ttl_max', 'no_ttl', 'artifacts', ...(local ? ['local'] : [])]
        const cells = (r: PidRow) => [
          r.pid,
          r.metricKeys,
          r.series,
          r.newestWrite ?? '',
          r.ageSeconds ?? '',
          r.minTtl ?? '',
          r.maxTtl ?? '',
          r.keysWithoutTtl,
          r.artifacts,
          ...(local ? [r.local ? 'running' : 'not-here'] : []),
        ]
        this.log(renderTsv(head, rows.map(cells)))
      } else {
        const columns: Column[] = [
          {head: 'pid', align: 'right'},
          {head: 'metric keys', align: 'right'},
          {head: 'series', align: 'right'},
          {head: 'last write', align: 'right'},
          {head: 'ttl min', align: 'right'},
          {head: 'ttl max', align: 'right'},
          {head: 'no ttl', align: 'right'},
          {head: 'artifacts', align: 'right', wide: true},
          {head: 'written at', wide: true},
          ...(local ? [{head: 'local'}] : []),
        ]
        const table = rows.map((r) => [
          r.pid,
          count(r.metricKeys),
          count(r.series),
          r.ageSeconds === null ? '-' : `${duration(r.ageSeconds)} ago`,
          r.minTtl === null ? '-' : duration(r.minTtl),
          r.maxTtl === null ? '-' : duration(r.maxTtl),
          count(r.keysWithoutTtl),
          count(r.artifacts),
          r.newestWrite === null ? '-' : localTime(r.newestWrite),
          ...(local ? [r.local ? 'running' : 'not here'] : []),
        ])
        this.log(renderTable(columns, table, {color: colorEnabled(process.stdout), wide: output.wide}))
      }
    }
    return rows
  }
}
