/**
 * RedisMultiProcessCollector: what a scrape of the exporter would show,
 * aggregated as prometheus_client's MultiProcessCollector does for mmap files
 * (see metrics/aggregate.ts), read from Redis in pipelined batches.
 *
 * Unlike the exporter's own collector it types gauges as gauges in every mode,
 * never sums min/max, keeps `pid` on liveall, counts a bare-`gauge` init twin
 * only as the 0.0 of a live gauge its worker has not written yet (as
 * prometheus_client shows it), and reads only its own prefix.
 */
import {Aggregator, type MetricFamily} from '../metrics/aggregate.js'
import type {GaugeMode, MetricType} from '../metrics/keys.js'
import {compareCodePoints} from '../metrics/pyjson.js'
import type {Connection} from '../redis/cluster.js'
import {redisTime} from '../redis/time.js'
import {readMetricKeys, type ReadStats, writeTime} from '../engine/reader.js'
import type {ReadOptions} from '../engine/read-options.js'

export interface CollectorOptions extends ReadOptions {
  /** Fold every gauge with this mode instead of its stored one. */
  modeOverride?: GaugeMode
  /** Pids with no write newer than this (ms) are dead for the live* modes. */
  liveWithinMs?: number
  /** Only this worker's samples. */
  pid?: number
  type?: MetricType
  /** Only metrics whose name passes. */
  metricFilter?: (name: string) => boolean
  /** No folding across pids: one sample per pid and series, with a `pid` label. */
  raw?: boolean
  /** Count the names of every key under the prefix that are not the exporter's, metas included (see MetricReadOptions.everyKey). */
  everyKey?: boolean
  /**
   * Called once the store has been read, before the families are made: the
   * walk's garbage is all dead then, and the families are the run's largest
   * allocation (dump and serve collect it there, see ops/collect-garbage.ts).
   */
  afterRead?: () => void
}

/** Anything that yields families: extra local metrics merged into collect(). */
export interface LocalCollector {
  collect(): MetricFamily[] | Promise<MetricFamily[]>
}

export interface Collection {
  families: MetricFamily[]
  stats: ReadStats
  /** Pids treated as dead for the live* modes (only with liveWithinMs). */
  deadPids: number[]
}

export class RedisMultiProcessCollector {
  private readonly local = new Set<LocalCollector>()
  /** What the last collect() skipped and read. */
  lastStats?: ReadStats

  constructor(
    private readonly redis: Connection,
    private readonly options: CollectorOptions,
  ) {}

  register(collector: LocalCollector): void {
    if (this.local.has(collector)) throw new Error('collector already registered')
    this.local.add(collector)
  }

  unregister(collector: LocalCollector): void {
    if (!this.local.delete(collector)) throw new Error('collector not registered')
  }

  async collect(): Promise<MetricFamily[]> {
    return (await this.collectWithStats()).families
  }

  /** Names, types and help of what collect() yields now (samples left out). */
  async describe(): Promise<Omit<MetricFamily, 'samples'>[]> {
    return (await this.collect()).map(({samples: _samples, ...rest}) => rest)
  }

  async collectWithStats(): Promise<Collection> {
    const o = this.options
    const newestWrite = new Map<number, number>()
    let cutoff = -Infinity
    if (o.liveWithinMs !== undefined) {
      cutoff = (await redisTime(this.redis)) - o.liveWithinMs / 1000
    }
    const isLive = o.liveWithinMs === undefined ? undefined : (pid: number) => (newestWrite.get(pid) ?? -Infinity) >= cutoff
    const agg = new Aggregator({modeOverride: o.modeOverride, raw: o.raw, isLive})
    // Liveness is judged on every write of a pid, so with liveWithinMs the
    // metric and type filters apply after the read, not in it.
    const filterLate = isLive !== undefined
    const stats = await readMetricKeys(
      this.redis,
      {
        prefix: o.prefix,
        pid: o.pid,
        type: filterLate ? undefined : o.type,
        metricFilter: filterLate ? undefined : o.metricFilter,
        everyKey: o.everyKey,
        // The visitor below and the Aggregator keep nothing of a key past its visit.
        transientKeys: true,
        scanCount: o.scanCount,
        onProgress: o.onProgress,
      },
      (k) => {
        if (isLive) {
          // A pid whose writes carry no time (see writeTime) is seen, and dead: nothing says it wrote lately.
          const newest = newestWrite.get(k.pid)
          const written = writeTime(k.updatedAt) ?? -Infinity
          if (newest === undefined || newest < written) newestWrite.set(k.pid, written)
        }
        if (filterLate && ((o.type && k.type !== o.type) || (o.metricFilter && !o.metricFilter(k.metricName)))) return
        agg.add(k)
      },
    )
    o.afterRead?.()
    const families = agg.result()
    stats.skipped.badLe += agg.rejected['bad-le']
    stats.skipped.typeConflict += agg.rejected['type-conflict']
    stats.skipped.badName += agg.rejected['bad-name']
    for (const c of this.local) families.push(...(await c.collect()))
    families.sort((a, b) => compareCodePoints(a.name, b.name))
    this.lastStats = stats
    const deadPids = isLive ? [...newestWrite.keys()].filter((p) => !isLive(p)).sort((a, b) => a - b) : []
    return {families, stats, deadPids}
  }
}
