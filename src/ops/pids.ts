/**
 * `pids` and `pid`: the store seen per worker — who is writing, how recently,
 * with what TTLs — and every series one worker reports.
 */
import type {GaugeMode, MetricType} from '../metrics/keys.js'
import type {Connection} from '../redis/cluster.js'
import type {ReadOptions} from '../engine/read-options.js'
import {readKeyFacts} from '../engine/fact-walk.js'
import {readMetricKeys, type ReadStats, writeTime} from '../engine/reader.js'
import {ageSeconds, clockForAges, ttlSeconds} from '../redis/time.js'
import {pidRunsHere} from './local.js'

export interface PidRow {
  pid: number
  metricKeys: number
  /** Metric keys that are series (artifacts excluded). */
  series: number
  artifacts: number
  /** Newest updated_at (Redis time, seconds), and its age at the time of the listing; null when no key has one (see writeTime). */
  newestWrite: number | null
  ageSeconds: number | null
  /** Smallest and largest remaining TTL in seconds among keys that have one. */
  minTtl: number | null
  maxTtl: number | null
  keysWithoutTtl: number
  /** Only with `local`: whether the pid runs on this host. */
  local?: boolean
}

export async function listPids(redis: Connection, o: ReadOptions & {local?: boolean}): Promise<PidRow[]> {
  const rows = new Map<number, PidRow>()
  await readKeyFacts(redis, {prefix: o.prefix, scanCount: o.scanCount, onProgress: o.onProgress, withTtl: true}, (k) => {
    const {pttl, time} = k.metric
    if (pttl === -2) return // expired since SCAN
    let row = rows.get(k.pid)
    if (!row) {
      row = {pid: k.pid, metricKeys: 0, series: 0, artifacts: 0, newestWrite: null, ageSeconds: null, minTtl: null, maxTtl: null, keysWithoutTtl: 0}
      rows.set(k.pid, row)
    }
    row.metricKeys++
    if (k.artifact) row.artifacts++
    else row.series++
    const written = writeTime(time)
    if (written !== undefined && (row.newestWrite === null || written > row.newestWrite)) row.newestWrite = written
    const s = ttlSeconds(pttl)
    if (s === null) row.keysWithoutTtl++
    else {
      row.minTtl = row.minTtl === null ? s : Math.min(row.minTtl, s)
      row.maxTtl = row.maxTtl === null ? s : Math.max(row.maxTtl, s)
    }
  })
  const now = await clockForAges(redis)
  return [...rows.values()]
    .sort((a, b) => a.pid - b.pid)
    .map((row) => ({
      ...row,
      ageSeconds: ageSeconds(row.newestWrite ?? undefined, now),
      ...(o.local ? {local: pidRunsHere(row.pid)} : {}),
    }))
}

export interface PidSeriesRow {
  metric: string
  sample: string
  labels: Record<string, string>
  type: MetricType
  mode?: GaugeMode
  value: number
  /** The gauge's set() time; 0 after inc/dec and for counters. */
  timestamp: number
  /** NaN when the key has no updated_at that is a time (see writeTime). */
  updatedAt: number
  /** Seconds since updatedAt; null when that is not a time. */
  ageSeconds: number | null
  /** Seconds; null when the key never expires. */
  ttl: number | null
  key: string
}

export interface PidReport {
  pid: number
  series: PidSeriesRow[]
  stats: ReadStats
  local?: boolean
  /** Whether the worker looks alive: its newest write, and the two signs a person checks. */
  alive: {
    /** Seconds since the newest updated_at of its keys; null when none is a time. */
    lastWriteAgeSeconds: number | null
    /** A process with this pid runs on this host (pids are per host: only meaningful where the worker runs). */
    runsHere: boolean
    /** With `liveWithinMs`: it wrote within that window (the rule dump --live-within applies). */
    wroteWithin?: boolean
  }
}

export async function inspectPid(redis: Connection, o: ReadOptions & {pid: number; local?: boolean; liveWithinMs?: number}): Promise<PidReport> {
  const rows: PidSeriesRow[] = []
  const now = await clockForAges(redis)
  const stats = await readMetricKeys(
    redis,
    {prefix: o.prefix, pid: o.pid, withTtl: true, withKeys: true, scanCount: o.scanCount, onProgress: o.onProgress},
    (k) => {
      rows.push({
        metric: k.identity.metricName,
        sample: k.identity.sampleName,
        labels: Object.fromEntries(k.identity.labels),
        type: k.type,
        ...(k.mode ? {mode: k.mode} : {}),
        value: k.value,
        timestamp: k.timestamp,
        updatedAt: k.updatedAt,
        ageSeconds: ageSeconds(writeTime(k.updatedAt), now),
        ttl: ttlSeconds(k.pttl),
        key: k.key!,
      })
    },
  )
  // One sort key per row: a JSON.stringify per comparison cost seconds and hundreds of MB on a 60k-series worker.
  const order = new Map(rows.map((r) => [r, JSON.stringify(r.labels)]))
  rows.sort((a, b) => (a.sample < b.sample ? -1 : a.sample > b.sample ? 1 : order.get(a)! < order.get(b)! ? -1 : 1))
  let lastWriteAgeSeconds: number | null = null
  for (const r of rows) if (r.ageSeconds !== null && (lastWriteAgeSeconds === null || r.ageSeconds < lastWriteAgeSeconds)) lastWriteAgeSeconds = r.ageSeconds
  const alive: PidReport['alive'] = {lastWriteAgeSeconds, runsHere: pidRunsHere(o.pid)}
  if (o.liveWithinMs !== undefined) alive.wroteWithin = lastWriteAgeSeconds !== null && lastWriteAgeSeconds * 1000 <= o.liveWithinMs
  return {pid: o.pid, series: rows, stats, ...(o.local ? {local: alive.runsHere} : {}), alive}
}
