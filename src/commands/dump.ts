import {once} from 'node:events'

import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {ConfigError} from '../errors.js'
import {collectGarbage} from '../ops/collect-garbage.js'
import {colorEnabled} from '../cli/color.js'
import {dumpSelection, dumpSelectionFlags} from '../cli/dump-flags.js'
import {dump} from '../ops/dump.js'
import {progress} from '../render/progress.js'
import {terminalText} from '../render/safe-text.js'
import {chooseOutput, formatFlag, wideFlag} from '../cli/output.js'
import {DUMP_FORMATS, familiesToJson, type JsonFamily, prometheusChunks, renderFamiliesTable} from '../render/metrics.js'
import type {ReadStats} from '../engine/reader.js'

export interface DumpJson {
  families: JsonFamily[]
  stats: ReadStats
  deadPids: number[]
}

export default class Dump extends BaseCommand<typeof Dump> {
  static override summary = 'Show what Prometheus would scrape right now'
  static override description = `Reads every metric key under the prefix and aggregates across workers exactly as prometheus_client's MultiProcessCollector does: counters and summaries summed, histogram buckets summed then accumulated with _count, gauges by their multiprocess mode (all/liveall keep a pid label; sum, max, min fold; mostrecent keeps the newest).

Output is the Prometheus text format (byte-identical for the same data; promtool accepts it), a table (values rounded for reading, shortened to fit the terminal; -o wide for every column), or JSON (--json, the same as --format json: {families, stats, deadPids}). The default is prometheus when piped and a table on a terminal.

--by LABEL[,LABEL] and --without LABEL[,LABEL] total the scrape over labels as PromQL's sum by(…) and sum without(…) do: counters, histograms (bucket by bucket: le always stays) and summaries are summed, gauges folded with their mode (or --mode): sum and all summed, max the largest, min the smallest; a mostrecent gauge cannot be folded across label sets (exit 2: use --mode).

--raw folds nothing, so --mode and --live-within do nothing with it (a warning says so).

Keys that are not clean exporter data (non-hash keys, key names that do not parse, metrics without meta, bad JSON or numbers, names that are not Prometheus names) and the exporter's bare-gauge init artifacts are skipped and counted in one warning on stderr; --strict makes bad data exit 6 and also judges the name of every other key under the prefix, as health --strict does. A live gauge a worker created but has not written yet counts as that worker's 0, as in prometheus_client.

On a terminal, control characters in help and label values are shown escaped; a pipe or a file gets the exact bytes.

Live modes (liveall, livesum, livemax, livemin, livemostrecent) count every pid present unless --live-within says which are alive. Pids are per host: two hosts sharing one Redis can collide on a pid.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> dump > metrics.prom && promtool check metrics < metrics.prom',
    '<%= config.bin %> dump --mode sum --without worker_id --metric gunicorn_worker_memory_bytes',
    '<%= config.bin %> dump --by path --metric gunicorn_worker_requests',
    "<%= config.bin %> dump --metric 'gunicorn_worker_*' --format table",
    '<%= config.bin %> dump --pid 12345 --raw',
    '<%= config.bin %> dump --live-within 2m --json',
  ]

  static override flags = {
    format: formatFlag(DUMP_FORMATS, 'table on a terminal, prometheus when piped'),
    wide: wideFlag,
    ...dumpSelectionFlags,
    strict: Flags.boolean({description: 'exit 6 instead of warning when keys are not clean exporter data'}),
  }

  async run(): Promise<DumpJson> {
    const {flags} = this
    const output = chooseOutput(flags, 'prometheus')
    if (flags.by && flags.without) throw new ConfigError('--by and --without contradict each other: choose one')
    if (flags.raw && (flags.by || flags.without)) throw new ConfigError(`--raw folds nothing and --${flags.by ? 'by' : 'without'} folds: choose one`)
    if (flags.raw) {
      // --raw shows each pid's own sample: nothing is folded, so nothing is live or dead either.
      for (const name of ['mode', 'live-within'] as const) if (flags[name] !== undefined) this.note(`--${name} does nothing with --raw (no folding): ignored`)
    }
    const meter = progress('dump')
    const result = await dump(await this.redis(), {
      onProgress: (n) => meter.update(n),
      prefix: this.loaded.config.prefix,
      ...dumpSelection(flags),
      strict: flags.strict,
      // The walk's garbage goes before the families are made: the peak RSS of a big dump is there.
      afterRead: collectGarbage,
    }).finally(() => meter.done())
    if (result.warning) this.note(result.warning)
    if (result.deadPids.length > 0) this.note(`treated as dead for live gauges: pids ${result.deadPids.join(', ')}`)
    if (result.families.length === 0)
      this.note(
        `no samples under prefix "${this.loaded.config.prefix}" in db ${this.loaded.config.db}${flags.metric || flags.type || flags.pid ? ' matching the filters' : ''}`,
      )
    if (!this.jsonEnabled()) {
      // A file or a pipe gets the exact bytes; a terminal gets help and label values escaped (safe-text.ts).
      const out = process.stdout.isTTY ? terminalText : (text: string) => text
      if (output.format === 'prometheus') {
        // A pipe takes a write at once and queues what the reader has not taken yet: without waiting
        // for 'drain', all ~10 MB of a million-key dump sat in that queue as the chunks' string trees.
        for (const chunk of prometheusChunks(result.families)) if (!process.stdout.write(out(chunk))) await once(process.stdout, 'drain')
      } else this.log(renderFamiliesTable(result.families, {color: colorEnabled(process.stdout), wide: output.wide}))
    }
    // Only --json prints what run() returns: a JSON copy of every sample is not made for nothing.
    return {families: this.jsonEnabled() ? familiesToJson(result.families) : [], stats: result.stats, deadPids: result.deadPids}
  }
}
