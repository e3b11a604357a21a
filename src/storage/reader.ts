/**
 * The streaming reader under dump, pids, pid and the collector: SCAN the
 * metric keys under the prefix, and per SCAN batch one pipeline that reads
 * every key's fields and the meta of each hash not seen before. Memory holds
 * one identity per series and a compact set of (pid, series) seen — never
 * the keys. Anything that is not clean exporter data is counted, never fatal.
 */
import type {Redis} from 'ioredis'

import {type LabelPairs, isValidMetricName} from '../metrics/aggregate.js'
import {type MetricType, type ParsedKey, escapeGlob, siblingKey} from '../metrics/keys.js'
import {parsePyFloat} from '../metrics/pyfloat.js'
import {compareCodePoints, parseOriginalKey} from '../metrics/pyjson.js'
import {pipelineReplies} from '../redis/pipeline.js'
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
}

export interface ReadOptions {
  prefix: string
  pid?: number
  type?: MetricType
  /** Only series whose metric name passes (applied once per series). */
  metricFilter?: (metricName: string) => boolean
  withTtl?: boolean
  scanCount?: number
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

type Known = SeriesIdentity | 'bad-json' | 'bad-name' | 'filtered'

const TYPE_INDEX: Record<string, number> = {counter: 1, histogram: 2, summary: 3, gauge: 4}

/** A 52-bit number naming (type, series) within one pid: 48 bits of the md5 and the type. */
function seriesSlot(k: ParsedKey): number {
  return Number.parseInt(k.hash.slice(0, 12), 16) * 16 + TYPE_INDEX[k.type] + (k.mode ? 5 : 0)
}

function toIdentity(text: string, filter?: (name: string) => boolean): Known {
  const id = parseOriginalKey(text)
  if (!id) return 'bad-json'
  if (!isValidMetricName(id.metricName)) return 'bad-name'
  if (filter && !filter(id.metricName)) return 'filtered'
  const labels = Object.entries(id.labels).sort(([a], [b]) => compareCodePoints(a, b))
  return {metricName: id.metricName, sampleName: id.sampleName, labels, help: id.help}
}

function scanRest(o: ReadOptions): string {
  const pid = o.pid === undefined ? '*' : escapeGlob(String(o.pid))
  const type = o.type === undefined ? '*' : o.type === 'gauge' ? 'gauge*' : o.type
  return `${type}:${pid}:metric:*`
}

export async function readMetricKeys(redis: Redis, o: ReadOptions, visit: (k: ReadKey) => void): Promise<ReadStats> {
  const known = new Map<string, Known>()
  const seen = new Map<number, Set<number>>()
  const skipped: SkippedCounts = {artifacts: 0, otherPrefix: 0, nonHash: 0, orphans: 0, badJson: 0, badNumber: 0, badName: 0, badLe: 0, typeConflict: 0}
  const stats: ReadStats = {scannedKeys: 0, samples: 0, skipped, repeats: 0}

  for await (const batch of scanPrefix(redis, o.prefix, {rest: scanRest(o), count: o.scanCount ?? 5000})) {
    stats.scannedKeys += batch.ours.length + batch.otherPrefix.length + batch.foreign.length
    skipped.otherPrefix += batch.otherPrefix.length
    const keys: ParsedKey[] = []
    for (const k of batch.ours) {
      if (k.kind !== 'metric') continue
      if (k.artifact) {
        skipped.artifacts++
        continue
      }
      let slots = seen.get(k.pid)
      if (!slots) seen.set(k.pid, (slots = new Set()))
      const slot = seriesSlot(k)
      if (slots.has(slot)) {
        stats.repeats++
        continue
      }
      slots.add(slot)
      keys.push(k)
    }
    await readBatch(redis, keys, known, o, skipped, (k) => {
      stats.samples++
      visit(k)
    })
  }
  return stats
}

async function readBatch(
  redis: Redis,
  keys: ParsedKey[],
  known: Map<string, Known>,
  o: ReadOptions,
  skipped: SkippedCounts,
  visit: (k: ReadKey) => void,
): Promise<void> {
  // The meta of each hash not seen yet, through the first key of this batch that has it.
  const lookups = new Map<string, ParsedKey>()
  for (const k of keys) if (!known.has(k.hash) && !lookups.has(k.hash)) lookups.set(k.hash, k)
  const metaOrder = [...lookups.values()]
  const perKey = o.withTtl ? 2 : 1
  const replies = await pipelineReplies(redis, (p) => {
    for (const k of keys) {
      p.hmget(k.key, 'value', 'timestamp', 'updated_at')
      if (o.withTtl) p.pttl(k.key)
    }
    for (const k of metaOrder) p.hget(siblingKey(k, 'meta'), 'original_key')
  })
  metaOrder.forEach((k, i) => {
    const r = replies[keys.length * perKey + i]
    if (r.ok && typeof r.value === 'string') known.set(k.hash, toIdentity(r.value, o.metricFilter))
  })

  // Keys whose hash is still unknown read their own meta: one more round trip, rare.
  const orphanCandidates = keys.filter((k) => !known.has(k.hash) && lookups.get(k.hash) !== k)
  if (orphanCandidates.length > 0) {
    const own = await pipelineReplies(redis, (p) => {
      for (const k of orphanCandidates) p.hget(siblingKey(k, 'meta'), 'original_key')
    })
    orphanCandidates.forEach((k, i) => {
      const r = own[i]
      if (r.ok && typeof r.value === 'string' && !known.has(k.hash)) known.set(k.hash, toIdentity(r.value, o.metricFilter))
    })
  }

  keys.forEach((k, i) => {
    const fields = replies[i * perKey]
    if (!fields.ok) {
      if (/WRONGTYPE/.test(fields.error.message)) skipped.nonHash++
      else throw fields.error
      return
    }
    const id = known.get(k.hash)
    if (id === undefined) return void skipped.orphans++
    if (id === 'filtered') return
    if (id === 'bad-json') return void skipped.badJson++
    if (id === 'bad-name') return void skipped.badName++
    const [v, ts, up] = fields.value as (string | null)[]
    if (v === null && ts === null && up === null) return // expired since SCAN
    const value = v === null ? undefined : parsePyFloat(v)
    const timestamp = ts === null ? undefined : parsePyFloat(ts)
    if (value === undefined || timestamp === undefined) return void skipped.badNumber++
    const pttl = o.withTtl ? Number((replies[i * perKey + 1] as {value: unknown}).value) : undefined
    visit({parsed: k, identity: id, value, timestamp, updatedAt: up === null ? 0 : (parsePyFloat(up) ?? 0), pttl})
  })
}

