/**
 * What a read of the prefix yields and asks for: a key as read (ReadKey), the counts of what was skipped, and the read's options. Apart
 * from reader.ts so that the walk under it (walk.ts) can use it too.
 */
import type {LabelPairs, SeriesSlot, StoredSample} from '../metrics/aggregate.js'
import type {MetricType} from '../metrics/keys.js'
import type {ReadOptions} from './read-options.js'

export interface SeriesIdentity {
  metricName: string
  sampleName: string
  labels: LabelPairs
  help: string
}

/**
 * One metric key as read: a StoredSample, ready for the Aggregator as it is
 * (one object per key, not two), plus what else the read learned.
 */
export interface ReadKey extends StoredSample {
  identity: SeriesIdentity
  /** Redis TIME of the last write, seconds; NaN when the key has none Python's float() reads (see writeTime). */
  updatedAt: number
  /** Milliseconds to live; -1 without TTL; only with `withTtl`. */
  pttl?: number
  /** The key itself; only with `withKeys`. */
  key?: string
  /** The same object for every key of one series: a place for callers to cache per-series work. */
  series: SeriesSlot
  /** The created_at (seconds) of the meta read for the series, one pid's; only with `withCreatedAt`, else NaN. */
  createdAt: number
}

/** What a read of metric keys asks for, beyond where and how fast to read (ReadOptions). */
export interface MetricReadOptions extends ReadOptions {
  pid?: number
  type?: MetricType
  /** Only series whose metric name passes (applied once per series). */
  metricFilter?: (metricName: string) => boolean
  withTtl?: boolean
  /**
   * Also SCAN the meta keys and anything else under the prefix (of the asked
   * type and pid), to count the names that are not the exporter's as health's
   * census does: what `dump --strict` needs. The SCAN replies carry every key,
   * not half of them.
   */
  everyKey?: boolean
  /**
   * The visitor keeps nothing of the ReadKey it is handed past its call (it
   * may keep what the key points to: identity, labels, series): the walk then
   * hands one object over and over, filled anew per key, instead of one
   * object per key for the GC. Not with `memory`, whose told() gets the key later.
   */
  transientKeys?: boolean
  /** Hand each key's name to the visitor as well (costs a string per key). */
  withKeys?: boolean
  /** Read each series' meta with its created_at (an HMGET instead of an HGET, once per series). */
  withCreatedAt?: boolean
  /**
   * MEMORY USAGE of the keys `pick` chooses as they are visited, each with its
   * meta's, told to `told` (bytes; 0 for a key gone meanwhile). Asked for in
   * one request per batch, after the batch's keys were visited.
   */
  memory?: MemoryProbe
}

export interface MemoryProbe {
  pick: (k: ReadKey) => boolean
  told: (k: ReadKey, metricBytes: number, metaBytes: number) => void
}

/** What was skipped and why: the warning line of dump, the error of --strict. */
export interface SkippedCounts {
  /** Bare-`gauge` init twins left beside their gauge's own key (or whose gauge's mode is unknown): never aggregated. */
  artifacts: number
  /** Exporter-shaped keys under a longer prefix: another application's. */
  otherPrefix: number
  /** Keys under the prefix whose names do not parse (bad md5, pid or type): foreign, as health and keys call them. */
  malformedName: number
  /** Metric-shaped names that are not hashes (WRONGTYPE). */
  nonHash: number
  /** Metric keys whose series has no meta with an original_key. */
  orphans: number
  /** original_key that is not the exporter's JSON shape. */
  badJson: number
  /** value or timestamp that Python's float() would reject, or missing. */
  badNumber: number
  /** Metric, sample or label names that are not Prometheus names, or samples named outside their family (`foo_bar` under gauge `foo`). */
  badName: number
  /** Histogram buckets whose `le` is not a number. */
  badLe: number
  /** Samples of a metric name already seen with another type (or gauge mode). */
  typeConflict: number
}

/**
 * A key's updated_at as a time its pid's liveness can be judged by, or
 * undefined when it is none: missing, or `inf`/`nan`, which Python's float()
 * reads but no write happened at (an `inf` would keep a dead pid fresh forever).
 */
export function writeTime(updatedAt: number | undefined): number | undefined {
  return updatedAt !== undefined && Number.isFinite(updatedAt) ? updatedAt : undefined
}

export interface ReadStats {
  scannedKeys: number
  samples: number
  skipped: SkippedCounts
  /** SCAN repeats (the server rehashed during the walk); each counted once. */
  repeats: number
  /** Live gauges a pid created but has not written yet, shown as that pid's 0.0 as prometheus_client shows them (unset-gauges.ts). */
  unsetGauges: number
}

export const totalSkipped = (s: SkippedCounts) => Object.values(s).reduce((a, b) => a + b, 0) - s.artifacts - s.otherPrefix

/** Skipped data in one line, for the stderr warning. */
export function describeSkipped(s: SkippedCounts): string {
  const parts = Object.entries(s)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what.replaceAll(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`)
  return parts.join(', ')
}
