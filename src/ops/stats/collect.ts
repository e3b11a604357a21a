/**
 * The counting behind `stats`: fed one metric key at a time (as the walk
 * reads it) and, for sampled keys, their memory; holds one entry per family,
 * label value, pid and (pid, family) — never one per key. Pure: tests feed it
 * keys without Redis.
 */
import type {GaugeMode, MetricType} from '../../metrics/keys.js'
import {judgeLabel, LabelValues, type Suspect} from './labels.js'
import {WriterTracker} from './writers.js'

/** What the collector needs of one metric key (a ReadKey has it all). */
export interface StatsKey {
  pid: number
  type: MetricType
  mode?: GaugeMode
  identity: {metricName: string; labels: readonly (readonly [string, string])[]}
  /** The same object for every key of a series: where the collector caches per-series work. */
  series: {folded?: {owner: object}}
  /** Seconds; NaN when unknown. */
  updatedAt: number
  /** Milliseconds to live; -1 without TTL, -2 gone; undefined when not read. */
  pttl?: number
  /** Seconds, of the meta read for the series; NaN when unknown. */
  createdAt: number
}

export const TTL_TYPES = ['counter', 'histogram', 'summary', 'gauge'] as const
export type TtlType = (typeof TTL_TYPES)[number]

export const MINUTE_MS = 60_000
export const FIVE_MINUTES_MS = 300_000

export interface TtlCounts {
  keys: number
  /** Keys that expire within the next minute (already gone included). */
  within1m: number
  /** Keys that expire within the next five minutes (the minute's included). */
  within5m: number
  withoutTtl: number
}

const emptyTtl = (): TtlCounts => ({keys: 0, within1m: 0, within5m: 0, withoutTtl: 0})

export class FamilyAcc {
  series = 0
  keys = 0
  readonly ttl = emptyTtl()
  newestWrite = Number.NEGATIVE_INFINITY
  newSeries = 0
  seriesWithCreatedAt = 0
  /** Keys whose memory was asked for, and the bytes told (metric key and meta together). */
  picked = 0
  sampledKeys = 0
  sampledBytes = 0
  readonly labels = new Map<string, LabelValues>()
  /** pids writing it: pid -> keys. */
  readonly pids = new Map<number, number>()

  constructor(
    readonly name: string,
    readonly type: string,
  ) {}
}

export class PidAcc {
  keys = 0
  newestWrite = Number.NEGATIVE_INFINITY
  exactBytes = 0
  readonly families = new Map<FamilyAcc, number>()
  readonly ttl = emptyTtl()
  constructor(readonly pid: number) {}
}

interface SeriesCache {
  owner: object
  family: FamilyAcc
}

export interface CollectOptions {
  /** Redis time (seconds) the walk started at: what "within the last hour" is measured from. */
  nowSeconds: number
  /** MEMORY USAGE on this many keys per family. */
  samples: number
  /** MEMORY USAGE on every key. */
  exact: boolean
}

const HOUR_S = 3600

export class StatsCollector {
  readonly families = new Map<string, FamilyAcc>()
  readonly pids = new Map<number, PidAcc>()
  readonly ttl: Record<TtlType, TtlCounts> = {counter: emptyTtl(), histogram: emptyTtl(), summary: emptyTtl(), gauge: emptyTtl()}
  readonly writers = new WriterTracker()
  keys = 0
  series = 0

  constructor(readonly o: CollectOptions) {}

  add(k: StatsKey): void {
    const family = this.seriesOf(k)
    this.keys++
    family.keys++
    family.pids.set(k.pid, (family.pids.get(k.pid) ?? 0) + 1)
    let pid = this.pids.get(k.pid)
    if (!pid) this.pids.set(k.pid, (pid = new PidAcc(k.pid)))
    pid.keys++
    pid.families.set(family, (pid.families.get(family) ?? 0) + 1)
    if (k.updatedAt > pid.newestWrite) pid.newestWrite = k.updatedAt
    if (k.updatedAt > family.newestWrite) family.newestWrite = k.updatedAt
    const ttl = k.pttl ?? -1
    countTtl(this.ttl[k.type], ttl)
    countTtl(family.ttl, ttl)
    countTtl(pid.ttl, ttl)
    this.writers.add(k.pid, k.identity.labels, k.updatedAt)
  }

  /** Whether to ask for this key's memory: every key with exact, else the first `samples` of its family. */
  pick(k: StatsKey): boolean {
    if (this.o.exact) return true
    const {family} = k.series.folded as SeriesCache
    if (family.picked >= this.o.samples) return false
    family.picked++
    return true
  }

  memory(k: StatsKey, metricBytes: number, metaBytes: number): void {
    const {family} = k.series.folded as SeriesCache
    family.sampledKeys++
    family.sampledBytes += metricBytes + metaBytes
    if (this.o.exact) this.pids.get(k.pid)!.exactBytes += metricBytes + metaBytes
  }

  /** The family of a key's series; on a series' first key, counts the series and its labels. */
  private seriesOf(k: StatsKey): FamilyAcc {
    const cached = k.series.folded as SeriesCache | undefined
    if (cached?.owner === this) return cached.family
    const name = k.identity.metricName
    let family = this.families.get(name)
    if (!family) this.families.set(name, (family = new FamilyAcc(name, k.mode ? `gauge_${k.mode}` : k.type)))
    k.series.folded = {owner: this, family} as SeriesCache
    this.series++
    family.series++
    if (!Number.isNaN(k.createdAt)) {
      family.seriesWithCreatedAt++
      if (k.createdAt >= this.o.nowSeconds - HOUR_S) family.newSeries++
    }
    for (const [label, value] of k.identity.labels) {
      let values = family.labels.get(label)
      if (!values) family.labels.set(label, (values = new LabelValues()))
      values.add(value, this.o.nowSeconds)
    }
    return family
  }

  /** Families' high-cardinality suspects, worst (most values) first. */
  suspects(): Suspect[] {
    const out: Suspect[] = []
    for (const f of this.families.values()) {
      for (const [label, values] of f.labels) {
        const s = judgeLabel(f.name, label, values)
        if (s) out.push(s)
      }
    }
    return out.sort((a, b) => b.values - a.values || cmp(a.metric, b.metric) || cmp(a.label, b.label))
  }
}

function countTtl(c: TtlCounts, pttl: number): void {
  c.keys++
  if (pttl === -1) c.withoutTtl++
  else if (pttl < FIVE_MINUTES_MS) {
    c.within5m++
    // -2: the key expired between its read and its PTTL.
    if (pttl < MINUTE_MS) c.within1m++
  }
}

export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
