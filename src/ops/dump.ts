/**
 * `dump`: what Prometheus would scrape right now, or with --raw what each
 * worker stored. Returns data; rendering is the command's business.
 */
import {CheckFailedError, ConfigError} from '../errors.js'
import type {MetricFamily} from '../metrics/aggregate.js'
import {regroup} from '../metrics/regroup.js'
import type {Connection} from '../redis/cluster.js'
import {RedisMultiProcessCollector} from '../storage/collector.js'
import {describeSkipped, type ReadStats, totalSkipped} from '../engine/reader.js'
import type {ReadOptions} from '../engine/read-options.js'
import type {DumpSelection} from '../cli/dump-flags.js'
import {plural} from '../words.js'

export interface DumpOptions extends ReadOptions, DumpSelection {
  /**
   * Skipped foreign data is an error instead of a warning, and every key under
   * the prefix (metas too) has its name judged, as `health --strict` does.
   */
  strict?: boolean
  /** See CollectorOptions.afterRead. */
  afterRead?: () => void
}

export interface DumpResult {
  families: MetricFamily[]
  stats: ReadStats
  deadPids: number[]
  /** One line describing skipped data, or undefined when there was none worth a warning. */
  warning?: string
}

/** A metric-name glob as a RegExp; a plain name matches only itself. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) re += '\\['
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replaceAll('\\', '\\\\')}]`
        i = end
      }
    } else re += c.replaceAll(/[.+^${}()|\\\]]/g, '\\$&')
  }
  try {
    return new RegExp(`^${re}$`)
  } catch {
    throw new ConfigError(`--metric: "${glob}" is not a valid glob (use *, ? and [abc])`)
  }
}

export async function dump(redis: Connection, o: DumpOptions): Promise<DumpResult> {
  const nameRe = o.metric ? globToRegExp(o.metric) : undefined
  const collector = new RedisMultiProcessCollector(redis, {
    prefix: o.prefix,
    modeOverride: o.modeOverride,
    liveWithinMs: o.liveWithinMs,
    pid: o.pid,
    type: o.type,
    raw: o.raw,
    everyKey: o.strict,
    scanCount: o.scanCount,
    onProgress: o.onProgress,
    afterRead: o.afterRead,
    // Counter families are named without `_total`; let `--metric requests_total` find them too.
    metricFilter: nameRe ? (name) => nameRe.test(name) || nameRe.test(`${name}_total`) : undefined,
  })
  const collected = await collector.collectWithStats()
  const {stats, deadPids} = collected
  const families = o.by || o.without ? regroup(collected.families, {by: o.by, without: o.without}) : collected.families
  const bad = totalSkipped(stats.skipped)
  const warning = bad > 0 ? `skipped ${plural(bad, 'key that is', 'keys that are')} not clean exporter data (${describeSkipped(stats.skipped)})` : undefined
  if (o.strict && warning) throw new CheckFailedError(`${warning}; --strict`)
  return {families, stats, deadPids, warning}
}
