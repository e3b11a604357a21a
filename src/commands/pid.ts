import {Args, Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {durationFlag} from '../cli/choices.js'
import {colorEnabled} from '../cli/color.js'
import {chooseOutput, formatFlag, wideFlag} from '../cli/output.js'
import {NotFoundError} from '../errors.js'
import {floatToGoString, pyFloatRepr} from '../metrics/pyfloat.js'
import {inspectPid, type PidReport} from '../ops/pids.js'
import {duration, localTime, plural, value} from '../render/human.js'
import {jsonValue} from '../render/metrics.js'
import {pidView, type PidViewRow} from '../render/pid-view.js'
import {SafeCell} from '../render/safe-text.js'
import {type Column, renderTable, renderTsv} from '../render/table.js'
import {describeSkipped, totalSkipped} from '../engine/reader.js'

const PID_FORMATS = ['table', 'wide', 'tsv', 'json'] as const

const COLUMNS: Column[] = [
  {head: 'sample', shrink: true},
  {head: 'labels', shrink: true},
  {head: 'type', wide: true},
  {head: 'value', align: 'right'},
  {head: 'set at', wide: true},
  {head: 'written', align: 'right'},
  {head: 'ttl', align: 'right'},
]

export default class Pid extends BaseCommand<typeof Pid> {
  static override summary = 'Every series one worker reports'
  static override description = `Lists each series the worker stored: sample name and labels, value, how long ago the key was written (updated_at) and its TTL; -o wide adds the type and gauge mode and the gauge's set() timestamp (local time). Histogram buckets are shown in numeric le order and cumulative, as dump shows them, with a _count row; --json has each bucket as stored (per bucket, not cumulative).

Above the table: whether the worker looks alive — how long ago it last wrote, whether a process with that pid runs on this host, and with --live-within whether it wrote within that window. A pid with no keys under the prefix exits 8.

In a pipe: tab-separated columns with exact values (-o tsv).

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> pid 12345',
    '<%= config.bin %> pid 12345 --live-within 2m',
    '<%= config.bin %> pid 12345 -o wide',
    '<%= config.bin %> pid 12345 --json',
  ]

  static override args = {pid: Args.integer({description: 'worker process id', required: true, min: 1})}
  static override flags = {
    local: Flags.boolean({description: 'also say whether the pid runs on this host (a warning on stderr)'}),
    'live-within': durationFlag({description: 'say whether the pid wrote within this window (90s, 10m), as dump --live-within judges it'}),
    format: formatFlag(PID_FORMATS, 'table on a terminal, tsv when piped'),
    wide: wideFlag,
  }

  async run(): Promise<unknown> {
    const output = chooseOutput(this.flags, 'tsv')
    const {prefix} = this.loaded.config
    const report = await inspectPid(await this.redis(), {prefix, pid: this.args.pid, local: this.flags.local, liveWithinMs: this.flags['live-within']})
    if (totalSkipped(report.stats.skipped) > 0) this.note(`skipped: ${describeSkipped(report.stats.skipped)}`)
    if (report.series.length === 0)
      throw new NotFoundError(`pid ${report.pid} has no keys under prefix "${prefix}" in db ${this.loaded.config.db} (redismp pids lists the pids that do)`)
    if (this.flags.local) this.note(`pid ${report.pid} ${report.local ? 'runs' : 'does not run'} on this host`)
    if (!this.jsonEnabled()) {
      const rows = pidView(report.series)
      if (output.format === 'tsv') this.log(renderTsv(['sample', 'labels', 'type', 'value', 'set_at', 'age_seconds', 'ttl_seconds'], rows.map(tsvCells)))
      else {
        this.log(this.summary(report))
        this.log(renderTable(COLUMNS, rows.map(tableCells), {color: colorEnabled(process.stdout), wide: output.wide}))
      }
    }
    return {
      ...report,
      series: report.series.map((s) => ({...s, value: jsonValue(s.value), timestamp: jsonValue(s.timestamp), updatedAt: jsonValue(s.updatedAt)})),
    }
  }

  /**
   * Two lines that fit 80 columns: `pid 12345: 42 series, last write 3s ago`,
   * then whether it looks alive — by --live-within, and by a process of that
   * pid on this host (pids are per host).
   */
  private summary(r: PidReport): string {
    const age = r.alive.lastWriteAgeSeconds === null ? 'last write unknown' : `last write ${duration(r.alive.lastWriteAgeSeconds)} ago`
    const here = r.alive.runsHere ? `process ${r.pid} runs on this host` : `no process ${r.pid} on this host`
    const window = duration((this.flags['live-within'] ?? 0) / 1000)
    const alive =
      r.alive.wroteWithin === undefined
        ? `${here}${r.alive.runsHere ? '' : ' (pids are per host; --live-within judges by writes)'}`
        : `${r.alive.wroteWithin ? `alive: wrote within ${window}` : `dead: no write within ${window}`}; ${here}`
    return `pid ${r.pid}: ${plural(r.series.length, 'series', 'series')}, ${age}\n${alive}`
  }
}

const typeText = (r: PidViewRow) => (r.mode ? `gauge (${r.mode})` : r.type)

function tableCells(r: PidViewRow) {
  return [
    r.sample,
    SafeCell.labels(r.labels),
    typeText(r),
    value(r.value),
    r.timestamp === 0 ? '-' : localTime(r.timestamp),
    r.derived ? '-' : r.ageSeconds === null ? 'unknown' : `${duration(r.ageSeconds)} ago`,
    r.derived ? '-' : r.ttl === null ? 'none' : duration(r.ttl),
  ]
}

function tsvCells(r: PidViewRow) {
  return [
    r.sample,
    SafeCell.labels(r.labels),
    typeText(r),
    floatToGoString(r.value),
    r.timestamp === 0 ? '' : pyFloatRepr(r.timestamp),
    r.ageSeconds ?? '',
    r.ttl ?? '',
  ]
}
