/**
 * The benchmark store, shared by bench/dump.js, bench/serve.js and
 * bench/cluster.js: PIDS workers, each with a plausible application's series
 * (counters, histogram buckets, summaries, gauges), one meta key per metric
 * key, as the exporter writes; and a redis-server of the benchmarks' own on a
 * free port (no persistence, its own temp dir) to hold it.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Redis} from 'ioredis'

import {formatKey, md5Hex, originalKey, pyFloatRepr} from '../dist/index.js'

export const PIDS = 16
export const PREFIX = 'bench'

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })

/** The i-th series of a plausible application: counters, histogram buckets, summaries, gauges. */
function series(i) {
  const kind = i % 10
  const labels = {path: `/api/v${i % 7}/resource${Math.floor(i / 10)}`, method: ['GET', 'POST', 'PUT'][i % 3]}
  if (kind < 4) return {type: 'counter', id: originalKey('http_requests', 'http_requests_total', labels, 'Requests.')}
  if (kind < 7) {
    const le = ['0.005', '0.05', '0.5', '1.0', '5.0', '+Inf'][i % 6]
    return {type: 'histogram', id: originalKey('http_latency_seconds', 'http_latency_seconds_bucket', {...labels, le}, 'Latency.')}
  }
  if (kind < 8) return {type: 'summary', id: originalKey('payload_bytes', 'payload_bytes_sum', labels, 'Payload.')}
  const mode = ['all', 'livesum', 'max', 'mostrecent'][i % 4]
  return {type: `gauge_${mode}`, id: originalKey(`worker_state_${mode}`, `worker_state_${mode}`, labels, 'State.')}
}

/**
 * Writes `metricKeys` metric keys and their metas: `add(key, fields)` queues
 * an HSET (into one pipeline, or its master's on a cluster), `flush()` sends
 * what was queued.
 */
export async function populateWith(metricKeys, add, flush) {
  const perPid = Math.ceil(metricKeys / PIDS)
  const specs = Array.from({length: perPid}, (_, i) => {
    const s = series(i)
    return {...s, hash: md5Hex(s.id)}
  })
  let written = 0
  for (let pid = 1000; pid < 1000 + PIDS && written < metricKeys; pid++) {
    for (const s of specs) {
      if (written >= metricKeys) break
      add(formatKey(PREFIX, s.type, pid, 'metric', s.hash), ['value', pyFloatRepr(written % 1000), 'timestamp', '0.0', 'updated_at', '1700000000.5'])
      add(formatKey(PREFIX, s.type, pid, 'meta', s.hash), ['original_key', s.id, 'created_at', '1700000000.5'])
      written++
      if (written % 10_000 === 0) await flush()
    }
  }
  await flush()
}

/** The store in one redis-server, through one connection. */
export async function populate(redis, metricKeys) {
  let p = redis.pipeline()
  await populateWith(
    metricKeys,
    (key, fields) => p.hset(key, ...fields),
    async () => {
      const sent = p
      p = redis.pipeline()
      await sent.exec()
    },
  )
}

/** Starts the benchmark's redis-server and a client for filling it; `stop()` ends both and removes its dir. */
export async function startStore() {
  const dir = mkdtempSync(join(tmpdir(), 'redismp-bench-'))
  const port = await freePort()
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {stdio: 'ignore'})
  const redis = new Redis({port, lazyConnect: true, retryStrategy: () => null})
  redis.on('error', () => undefined)
  for (let i = 0; ; i++) {
    try {
      await redis.connect()
      break
    } catch {
      if (i > 100) throw new Error('redis-server did not start')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    port,
    dir,
    redis,
    async stop() {
      redis.disconnect()
      server.kill('SIGTERM')
      await new Promise((r) => server.once('exit', r))
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
