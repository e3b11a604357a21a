import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {durationFlag} from '../cli/choices.js'
import {paint} from '../cli/color.js'
import {describeConnection} from '../redis/connect.js'
import {stats, type StatsReport} from '../ops/stats/index.js'
import {progress} from '../render/progress.js'
import {renderStats} from '../render/stats-view.js'

export default class Stats extends BaseCommand<typeof Stats> {
  static override summary = "Where the store's keys and memory go, and what is about to go wrong"
  static override description = `One walk over the metric keys under the prefix, counted instead of aggregated:

- metric families ranked by memory (MEMORY USAGE of --samples keys per family, with their metas, times the family's keys; every key with --exact), by series and by keys (series times pids), each with its share;
- label names by distinct values, the top values of the label with the most, and label pairs by series;
- per pid: keys, series against the median worker, memory share, last write; pids that look reused or shared by two hosts;
- churn: stale pids (no write for --stale) and their share of keys, series created in the last hour (the created_at of the meta read for each series);
- keys expiring within a minute and five minutes, by type;
- findings in words: labels whose values look like timestamps, ids or durations, counters about to expire, stale pids, keys without TTL.

--json returns the same data. Exit 0 whatever it finds (health --strict turns the cardinality and expiry findings into exit 6).

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> stats',
    "<%= config.bin %> stats --metric 'gunicorn_worker_*' --top 20",
    '<%= config.bin %> stats --exact --json | jq .families.byMemory',
    "<%= config.bin %> stats --json | jq -r '.findings[].message'",
  ]

  static override flags = {
    metric: Flags.string({description: 'only metric families with this name or glob (gunicorn_worker_*)'}),
    top: Flags.integer({description: 'rows per ranking', default: 10, min: 1, max: 10_000}),
    samples: Flags.integer({description: 'keys per family whose MEMORY USAGE is read (0: none)', default: 5, min: 0, max: 10_000}),
    exact: Flags.boolean({description: 'MEMORY USAGE of every key (two more commands per key)'}),
    stale: durationFlag({description: 'a pid with no write for this long is stale (90s, 10m)', default: 300_000, defaultHelp: async () => '5m'}),
  }

  async run(): Promise<StatsReport> {
    const {config} = this.loaded
    const redis = await this.redis()
    const meter = progress('stats')
    const report = await stats(redis, {
      prefix: config.prefix,
      endpoint: describeConnection(redis, config),
      metric: this.flags.metric,
      samples: this.flags.samples,
      exact: this.flags.exact,
      top: this.flags.top,
      staleSeconds: this.flags.stale / 1000,
      ttlDisabled: config.ttlDisabled,
      onProgress: (n) => meter.update(n),
    }).finally(() => meter.done())
    if (report.totals.metricKeys === 0)
      this.note(`no metric keys under prefix "${config.prefix}" in db ${config.db}${this.flags.metric ? ' matching --metric' : ''}`)
    if (!this.jsonEnabled()) {
      const width = process.stdout.columns || Number(process.env.COLUMNS) || 80
      const chalk = paint(process.stdout)
      this.log(renderStats(report, {width, chalk: chalk.level > 0 ? chalk : undefined}))
    }
    return report
  }
}
