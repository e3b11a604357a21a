import {Args, Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {colorEnabled} from '../cli/color.js'
import {formatDuration} from '../config/duration.js'
import {floatToGoString} from '../metrics/pyfloat.js'
import {type PidReport, inspectPid} from '../ops/pids.js'
import {jsonValue} from '../render/metrics.js'
import {SafeCell} from '../render/safe-text.js'
import {formatEpochSeconds, renderTable} from '../render/table.js'
import {describeSkipped, totalSkipped} from '../engine/reader.js'

export default class Pid extends BaseCommand<typeof Pid> {
  static override summary = 'Every series one worker reports'
  static override description = `Lists each series the worker stored: sample name and labels, type and gauge mode, value, the gauge's set() timestamp, how long ago the key was written (updated_at), and its TTL.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = ['<%= config.bin %> pid 12345', '<%= config.bin %> pid 12345 --json']

  static override args = {pid: Args.integer({description: 'worker process id', required: true, min: 1})}
  static override flags = {
    local: Flags.boolean({description: 'also say whether the pid runs on this host'}),
  }

  async run(): Promise<unknown> {
    const report = await inspectPid(await this.redis(), {prefix: this.loaded.config.prefix, pid: this.args.pid, local: this.flags.local})
    if (totalSkipped(report.stats.skipped) > 0) this.note(`skipped: ${describeSkipped(report.stats.skipped)}`)
    if (report.series.length === 0) this.note(`no series for pid ${report.pid} under prefix "${this.loaded.config.prefix}"`)
    if (this.flags.local) this.note(`pid ${report.pid} ${report.local ? 'runs' : 'does not run'} on this host`)
    if (!this.jsonEnabled() && report.series.length > 0) this.log(this.render(report))
    return {...report, series: report.series.map((s) => ({...s, value: jsonValue(s.value), timestamp: jsonValue(s.timestamp), updatedAt: jsonValue(s.updatedAt)}))}
  }

  private render(report: PidReport): string {
    const rows = report.series.map((s) => [
      s.sample,
      SafeCell.labels(Object.entries(s.labels)),
      s.mode ? `gauge (${s.mode})` : s.type,
      floatToGoString(s.value),
      s.timestamp === 0 ? '-' : formatEpochSeconds(s.timestamp),
      s.ageSeconds === null ? 'unknown' : `${formatDuration(s.ageSeconds * 1000)} ago`,
      s.ttl === null ? 'none' : `${s.ttl}s`,
    ])
    return renderTable(['sample', 'labels', 'type', 'value', 'set at', 'written', 'ttl'], rows, {color: colorEnabled(process.stdout)})
  }
}
