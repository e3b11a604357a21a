/**
 * `seed`: a realistic synthetic dataset written through RedisValue — so it has
 * exactly the exporter's keys, metadata and artifacts — for trying every
 * command on an empty Redis. Values come from a seeded generator: the same
 * flags give the same data.
 */
import {RefusedError} from '../errors.js'
import {GAUGE_MODES, type GaugeMode, prefixPattern} from '../metrics/keys.js'
import {floatToGoString} from '../metrics/pyfloat.js'
import type {Connection} from '../redis/cluster.js'
import {scanBatches} from '../redis/scan.js'
import {RedisStorageDict} from '../storage/dict.js'
import {RedisValue, type RedisValueParams} from '../storage/value.js'

export interface SeedOptions {
  prefix: string
  pids: number
  /** Label combinations per metric family. */
  series: number
  /** First pid; workers get consecutive pids from here. */
  pidBase?: number
  seed?: number
  ttlSeconds: number
  ttlDisabled: boolean
  force?: boolean
  /** Concurrent writes in flight. */
  concurrency?: number
  /** Values written so far (for a progress line). */
  onProgress?: (written: number) => void
}

export interface SeedResult {
  prefix: string
  pids: number[]
  families: number
  values: number
  keysWritten: number
}

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity]
const METHODS = ['GET', 'POST', 'PUT', 'DELETE']
const STATUSES = ['200', '201', '204', '301', '400', '404', '500']
/** One realistic gauge per multiprocess mode: name, help, value scale. */
const GAUGES: Record<GaugeMode, [string, string, number]> = {
  all: ['gunicorn_worker_memory_bytes', 'Resident memory of each worker', 3e8],
  liveall: ['gunicorn_worker_open_connections', 'Open client connections of each live worker', 200],
  sum: ['gunicorn_cache_entries', 'Entries in the per-worker caches, all workers', 1e5],
  livesum: ['gunicorn_active_requests', 'Requests being served now by live workers', 50],
  max: ['gunicorn_peak_memory_bytes', 'Largest resident memory of any worker', 5e8],
  livemax: ['gunicorn_worker_uptime_seconds', 'Longest uptime among live workers', 86_400],
  min: ['gunicorn_free_file_descriptors', 'Fewest free file descriptors of any worker', 1024],
  livemin: ['gunicorn_free_threads', 'Fewest idle threads among live workers', 16],
  mostrecent: ['gunicorn_config_generation', 'Config generation last loaded by any worker', 100],
  livemostrecent: ['gunicorn_last_request_timestamp_seconds', 'Time of the newest request served', 1.7e9],
}
const PATHS = ['/', '/api/users', '/api/orders', '/health', '/static/app.js', '/login', '/search']

/** mulberry32: tiny, seedable, good enough for plausible numbers. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d_2b_79_f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

type Write = (v: RedisValue) => Promise<void>
interface Planned {
  params: RedisValueParams
  write: Write
}

function plan(series: number, rnd: () => number): {families: number; values: Planned[]} {
  const out: Planned[] = []
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length]
  const requests = Math.ceil(rnd() * 500)
  for (let i = 0; i < series; i++) {
    // A distinct label combination for every i: method, then status, then path vary.
    const combos = METHODS.length * STATUSES.length * PATHS.length
    const path = pick(PATHS, Math.floor(i / (METHODS.length * STATUSES.length))) + (i >= combos ? `/${Math.floor(i / combos)}` : '')
    const labels = {method: pick(METHODS, i), status: pick(STATUSES, Math.floor(i / METHODS.length)), path}
    // Amounts are drawn now, not when the writes run (they run concurrently): same seed, same data.
    const served = Math.ceil(rnd() * requests)
    out.push({
      params: {
        typ: 'counter',
        metricName: 'gunicorn_worker_requests',
        name: 'gunicorn_worker_requests_total',
        labelnames: Object.keys(labels),
        labelvalues: Object.values(labels),
        help: 'Total requests handled, by method, status and path.',
      },
      write: (v) => v.inc(served),
    })
    const route = {path: pick(PATHS, i)}
    if (i < PATHS.length) {
      let remaining = Math.ceil(rnd() * 100)
      for (const le of LATENCY_BUCKETS) {
        const n = le === Infinity ? remaining : Math.floor(remaining * rnd() * 0.5)
        remaining -= n
        out.push({
          params: {
            typ: 'histogram',
            metricName: 'gunicorn_worker_request_duration_seconds',
            name: 'gunicorn_worker_request_duration_seconds_bucket',
            labelnames: ['path', 'le'],
            labelvalues: [route.path, floatToGoString(le)],
            help: 'Request latency in seconds.',
          },
          write: (v) => v.inc(n),
        })
      }
      const seconds = Math.round(rnd() * 40_000) / 1000
      out.push({
        params: {
          typ: 'histogram',
          metricName: 'gunicorn_worker_request_duration_seconds',
          name: 'gunicorn_worker_request_duration_seconds_sum',
          labelnames: ['path'],
          labelvalues: [route.path],
          help: 'Request latency in seconds.',
        },
        write: (v) => v.inc(seconds),
      })
      const count = Math.ceil(rnd() * 50)
      const bytes = count * Math.ceil(rnd() * 4096)
      out.push(
        {
          params: {
            typ: 'summary',
            metricName: 'gunicorn_worker_response_size_bytes',
            name: 'gunicorn_worker_response_size_bytes_count',
            labelnames: ['path'],
            labelvalues: [route.path],
            help: 'Response sizes in bytes.',
          },
          write: (v) => v.inc(count),
        },
        {
          params: {
            typ: 'summary',
            metricName: 'gunicorn_worker_response_size_bytes',
            name: 'gunicorn_worker_response_size_bytes_sum',
            labelnames: ['path'],
            labelvalues: [route.path],
            help: 'Response sizes in bytes.',
          },
          write: (v) => v.inc(bytes),
        },
      )
    }
  }
  for (const mode of GAUGE_MODES) {
    const [name, help, scale] = GAUGES[mode]
    const value = Math.round(rnd() * scale)
    out.push({
      params: {typ: 'gauge', metricName: name, name, labelnames: [], labelvalues: [], help: `${help} (multiprocess_mode=${mode})`, multiprocessMode: mode},
      write: (v) => v.set(value),
    })
  }
  return {families: 3 + GAUGE_MODES.length, values: out}
}

async function prefixHasData(redis: Connection, prefix: string): Promise<boolean> {
  for await (const keys of scanBatches(redis, {match: prefixPattern(prefix), count: 1000})) {
    if (keys.length > 0) return true
  }
  return false
}

async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++])
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}

export async function seed(redis: Connection, o: SeedOptions): Promise<SeedResult> {
  if (!o.force && (await prefixHasData(redis, o.prefix))) {
    throw new RefusedError(`prefix "${o.prefix}" already holds keys; seed only writes into an empty prefix (use --force to add to it)`)
  }
  const pids = Array.from({length: o.pids}, (_, i) => (o.pidBase ?? 10_001) + i)
  let families = 0
  let values = 0
  for (const pid of pids) {
    const rnd = random((o.seed ?? 1) * 7919 + pid)
    const p = plan(o.series, rnd)
    families = p.families
    const dict = new RedisStorageDict(redis, o.prefix, {pid, ttlSeconds: o.ttlSeconds, ttlDisabled: o.ttlDisabled})
    await inParallel(p.values, o.concurrency ?? 64, async ({params, write}) => {
      await write(await RedisValue.create(dict, params))
      o.onProgress?.(++values)
    })
  }
  let keysWritten = 0
  for await (const keys of scanBatches(redis, {match: prefixPattern(o.prefix), count: 1000})) keysWritten += keys.length
  return {prefix: o.prefix, pids, families, values, keysWritten}
}
