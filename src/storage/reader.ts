/**
 * The streaming reader under dump, pid and the collector: SCAN the metric
 * keys under the prefix and, per SCAN batch, read every key's fields and the
 * meta of each series not seen before in a few commands (batch-read.ts), the
 * next batch in flight while this one is folded. Memory holds one entry per
 * series — identity, the (pid, type) slots seen — never the keys. Anything
 * that is not clean exporter data is counted, never fatal.
 */
import type {Redis} from 'ioredis'

import {type LabelPairs, isValidMetricName} from '../metrics/aggregate.js'
import {GAUGE_MODES, type MetricType, type ParsedKey, escapeGlob, siblingKey} from '../metrics/keys.js'
import {parsePyFloat} from '../metrics/pyfloat.js'
import {parseOriginalKey, sortByCodePoint} from '../metrics/pyjson.js'
import {type BatchReply, BatchReader, WRONGTYPE} from './batch-read.js'
import {scanPrefix} from './keyspace.js'

export interface SeriesIdentity {
  metricName: string
  sampleName: string
  labels: LabelPairs
  help: string
}

export interface ReadKey {
  parsed: ParsedKey
  identity: SeriesIdentity
  value: number
  timestamp: number
  /** Redis TIME of the last write, seconds. */
  updatedAt: number
  /** Milliseconds to live; -1 without TTL; only with `withTtl`. */
  pttl?: number
  /** The same object for every key of one series: a place for callers to cache per-series work. */
  series: object
}

export interface ReadOptions {
  prefix: string
  pid?: number
  type?: MetricType
  /** Only series whose metric name passes (applied once per series). */
  metricFilter?: (metricName: string) => boolean
  withTtl?: boolean
  scanCount?: number
  /** How batches are read; one is made per call when absent. */
  reader?: BatchReader
  /** Told the number of keys scanned so far, after each batch. */
  onProgress?: (scanned: number) => void
}

/** What was skipped and why: the warning line of dump, the error of --strict. */
export interface SkippedCounts {
  /** Bare-`gauge` init twins: never aggregated. */
  artifacts: number
  /** Exporter-shaped keys under a longer prefix: another application's. */
  otherPrefix: number
  /** Metric-shaped names that are not hashes (WRONGTYPE). */
  nonHash: number
  /** Metric keys whose series has no meta with an original_key. */
  orphans: number
  /** original_key that is not the exporter's JSON shape. */
  badJson: number
  /** value or timestamp that Python's float() would reject, or missing. */
  badNumber: number
  /** Metric names prometheus_client would refuse. */
  badName: number
  /** Histogram buckets whose `le` is not a number. */
  badLe: number
  /** Samples of a metric name already seen with another type (or gauge mode). */
  typeConflict: number
}

export interface ReadStats {
  scannedKeys: number
  samples: number
  skipped: SkippedCounts
  /** SCAN repeats (the server rehashed during the walk); each counted once. */
  repeats: number
}

export const totalSkipped = (s: SkippedCounts) => Object.values(s).reduce((a, b) => a + b, 0) - s.artifacts - s.otherPrefix

/** Skipped data in one line, for the stderr warning. */
export function describeSkipped(s: SkippedCounts): string {
  const parts = Object.entries(s)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`)
  return parts.join(', ')
}

/**
 * SCAN COUNT for reads that visit the whole prefix: server time per key visited
 * falls by 40% from COUNT 5000 to 50000 (measured on 2M keys), and a reply
 * stays bounded by it.
 */
export const DUMP_SCAN_COUNT = 50_000

type Known = SeriesIdentity | 'bad-json' | 'bad-name' | 'filtered'

const TYPE_SLOT: Record<string, number> = {counter: 1, histogram: 2, summary: 3, gauge: 4}
const MODE_SLOT: Record<string, number> = Object.fromEntries(GAUGE_MODES.map((m, i) => [m, 5 + i]))

/** Where a series keeps the (pid, type) slots SCAN has shown already. */
interface SlotHolder {
  slots?: number[] | Set<number>
}

/**
 * Records a key in its series' holder; true when SCAN showed it before. SCAN
 * may return a key twice while the server rehashes, and a sum must count it
 * once. A short list of small numbers per series (a Set past 64 pids): a few
 * bytes per key, and no key string retained.
 */
function isRepeat(holder: SlotHolder, k: ParsedKey): boolean {
  const slot = k.pid * 16 + (k.mode ? MODE_SLOT[k.mode] : TYPE_SLOT[k.type] + (k.artifact ? 14 : 0))
  const seen = holder.slots
  if (seen === undefined) {
    holder.slots = [slot]
    return false
  }
  if (Array.isArray(seen)) {
    if (seen.includes(slot)) return true
    seen.push(slot)
    if (seen.length > 64) holder.slots = new Set(seen)
    return false
  }
  if (seen.has(slot)) return true
  seen.add(slot)
  return false
}

/** Repeats among keys of many series, for listings that need nothing else per series. */
export class SeenKeys {
  private readonly bySeries = new Map<string, SlotHolder>()

  repeat(k: ParsedKey): boolean {
    let holder = this.bySeries.get(k.hash)
    if (!holder) this.bySeries.set(k.hash, (holder = {}))
    return isRepeat(holder, k)
  }
}

function toIdentity(text: string, filter?: (name: string) => boolean): Known {
  const id = parseOriginalKey(text)
  if (!id) return 'bad-json'
  if (!isValidMetricName(id.metricName)) return 'bad-name'
  if (filter && !filter(id.metricName)) return 'filtered'
  const labels = sortByCodePoint(Object.entries(id.labels), ([name]) => name)
  return {metricName: id.metricName, sampleName: id.sampleName, labels, help: id.help}
}

function scanRest(o: ReadOptions): string {
  const pid = o.pid === undefined ? '*' : escapeGlob(String(o.pid))
  const type = o.type === undefined ? '*' : o.type === 'gauge' ? 'gauge*' : o.type
  return `${type}:${pid}:metric:*`
}

export async function readMetricKeys(redis: Redis, o: ReadOptions, visit: (k: ReadKey) => void): Promise<ReadStats> {
  const reader = o.reader ?? new BatchReader(redis)
  const skipped: SkippedCounts = {artifacts: 0, otherPrefix: 0, nonHash: 0, orphans: 0, badJson: 0, badNumber: 0, badName: 0, badLe: 0, typeConflict: 0}
  const stats: ReadStats = {scannedKeys: 0, samples: 0, skipped, repeats: 0}
  const series = new SeriesTable(o.metricFilter)
  const count = (k: ReadKey) => {
    stats.samples++
    visit(k)
  }

  // One batch's read is in flight while the previous one is folded: Redis and we work at once.
  let previous: Promise<InFlight> | undefined
  for await (const batch of scanPrefix(redis, o.prefix, {rest: scanRest(o), count: o.scanCount ?? DUMP_SCAN_COUNT})) {
    stats.scannedKeys += batch.ours.length + batch.otherPrefix.length + batch.foreign.length
    o.onProgress?.(stats.scannedKeys)
    skipped.otherPrefix += batch.otherPrefix.length
    const keys: ParsedKey[] = []
    const entries: SeriesEntry[] = []
    for (const k of batch.ours) {
      if (k.kind !== 'metric') continue
      if (k.artifact) {
        skipped.artifacts++
        continue
      }
      const entry = series.entry(k.hash)
      if (isRepeat(entry, k)) {
        stats.repeats++
        continue
      }
      keys.push(k)
      entries.push(entry)
    }
    const current = sendBatch(reader, keys, entries, o.withTtl ?? false)
    if (previous) await finishBatch(reader, await previous, series, skipped, count)
    previous = current
  }
  if (previous) await finishBatch(reader, await previous, series, skipped, count)
  return stats
}

/**
 * Everything the reader knows about one series (one md5), reached with one
 * Map lookup per key: at a million keys, each further lookup cost a second.
 */
interface SeriesEntry extends SlotHolder {
  /** The identity once a meta named the series, or why it cannot be used. */
  id?: Known
  /** Its meta is on its way in some batch. */
  requested?: boolean
}

class SeriesTable {
  private readonly byHash = new Map<string, SeriesEntry>()
  constructor(private readonly filter?: (name: string) => boolean) {}

  entry(hash: string): SeriesEntry {
    let e = this.byHash.get(hash)
    if (!e) this.byHash.set(hash, (e = {}))
    return e
  }

  learn(entry: SeriesEntry, originalKey: string | null): void {
    entry.requested = false
    if (originalKey !== null && entry.id === undefined) entry.id = toIdentity(originalKey, this.filter)
  }
}

interface InFlight {
  keys: ParsedKey[]
  entries: SeriesEntry[]
  /** Indexes of the keys whose own meta was read with this batch. */
  metaOf: number[]
  reply: BatchReply
  withTtl: boolean
}

async function sendBatch(reader: BatchReader, keys: ParsedKey[], entries: SeriesEntry[], withTtl: boolean): Promise<InFlight> {
  const metaOf: number[] = []
  for (let i = 0; i < keys.length; i++) {
    const e = entries[i]
    if (e.id !== undefined || e.requested) continue
    e.requested = true
    metaOf.push(i)
  }
  const reply = await reader.read(
    keys.map((k) => k.key),
    metaOf.map((i) => siblingKey(keys[i], 'meta')),
    withTtl,
  )
  return {keys, entries, metaOf, reply, withTtl}
}

async function finishBatch(
  reader: BatchReader,
  {keys, entries, metaOf, reply, withTtl}: InFlight,
  series: SeriesTable,
  skipped: SkippedCounts,
  visit: (k: ReadKey) => void,
): Promise<void> {
  const asked = new Set(metaOf)
  metaOf.forEach((i, j) => series.learn(entries[i], reply.metas[j]))

  // A series still unknown: the meta its first key named was missing. Each such key reads its own (rare).
  const orphanCandidates: number[] = []
  for (let i = 0; i < keys.length; i++) {
    const e = entries[i]
    if (e.id === undefined && !e.requested && !asked.has(i)) orphanCandidates.push(i)
  }
  if (orphanCandidates.length > 0) {
    const own = await reader.read([], orphanCandidates.map((i) => siblingKey(keys[i], 'meta')))
    orphanCandidates.forEach((i, j) => series.learn(entries[i], own.metas[j]))
  }

  for (let i = 0; i < keys.length; i++) {
    const fields = reply.fields[i]
    if (fields === WRONGTYPE) {
      skipped.nonHash++
      continue
    }
    const id = entries[i].id
    if (typeof id !== 'object') {
      if (id === undefined) skipped.orphans++
      else if (id === 'bad-json') skipped.badJson++
      else if (id === 'bad-name') skipped.badName++
      continue
    }
    const [v, ts, up] = fields
    if (v === null && ts === null && up === null) continue // expired since SCAN
    const value = v === null ? undefined : parsePyFloat(v)
    const timestamp = ts === null ? undefined : parsePyFloat(ts)
    if (value === undefined || timestamp === undefined) {
      skipped.badNumber++
      continue
    }
    visit({parsed: keys[i], identity: id, value, timestamp, updatedAt: up === null ? 0 : (parsePyFloat(up) ?? 0), pttl: withTtl ? reply.pttl[i] : undefined, series: entries[i]})
  }
}
