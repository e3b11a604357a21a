#!/usr/bin/env node
/**
 * npm run bench (serve row): how fast `redismp serve` answers scrapes while
 * it walks the store without pause (--refresh 1ms: the worst case, a walk
 * always running), at 100k and 1M metric keys, and whether its memory stays
 * flat over many walks. It starts its own redis-server (bench/store.js) and
 * the real CLI on free ports and stops both; nothing else is touched.
 *
 * Prints per size: the mean walk time, scrape latency p50/p99 over 200
 * scrapes from 10 concurrent keep-alive clients asking for gzip as
 * Prometheus does (time to the last byte, after 50 scrapes to warm up), first with no walk running, then
 * with one always running; the page size; and the RSS of the serve process
 * (server and walk thread) after 10 and after 200 refreshes.
 * `node bench/serve.js 100000` picks sizes; SCRAPES, CLIENTS and REFRESHES
 * change the counts.
 */
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {fileURLToPath} from 'node:url'

import {freePort, PIDS, populate, PREFIX, startStore} from './store.js'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const SIZES = sizes.length > 0 ? sizes : [100_000, 1_000_000]
const SCRAPES = Number(process.env.SCRAPES ?? 200)
const CLIENTS = Number(process.env.CLIENTS ?? 10)
const REFRESHES = Number(process.env.REFRESHES ?? 200)
const WARMUP = 50
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** One GET; resolves with status, body bytes and the milliseconds to the last byte. */
function get(port, path, agent, gzip = true) {
  const start = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    request({host: '127.0.0.1', port, path, agent, headers: gzip ? {'accept-encoding': 'gzip'} : {}}, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode, body: Buffer.concat(chunks), ms: Number(process.hrtime.bigint() - start) / 1e6}))
      res.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

async function selfMetric(port, series) {
  const page = (await get(port, '/metrics', undefined, false)).body.toString()
  const line = page.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

async function waitForWalks(port, n, pid) {
  let shown = 0
  for (;;) {
    const walks = await selfMetric(port, 'redismp_walks_total{result="success"}').catch(() => undefined)
    if (walks !== undefined && walks >= n) return walks
    // Progress on stderr: a long run shows how far it got, and how memory went meanwhile.
    if (pid && walks >= shown + 25) {
      shown = walks
      process.stderr.write(`  ${walks} refreshes: RSS ${rssMb(pid).toFixed(0)} MB\n`)
    }
    const failed = await selfMetric(port, 'redismp_walks_total{result="failure"}').catch(() => undefined)
    if (failed) throw new Error('a walk failed')
    await sleep(250)
  }
}

/** Starts `redismp serve` on the store; resolves once its first walk is done. */
async function startServe(refresh) {
  const port = await freePort()
  const env = {PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', REDIS_PORT: String(store.port), REDIS_KEY_PREFIX: PREFIX}
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`, '--refresh', refresh], {env, stdio: ['ignore', 'ignore', 'pipe']})
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  while (!/^serving /m.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`serve exited: ${stderr}`)
    await sleep(50)
  }
  await waitForWalks(port, 1)
  return {
    port,
    child,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()))
      children.delete(child)
    },
  }
}

/** SCRAPES scrapes from CLIENTS keep-alive clients; latencies sorted, and the page size. */
async function scrapes(port) {
  const agent = new Agent({keepAlive: true, maxSockets: CLIENTS})
  // Prometheus scrapes a process that has run for a while: the first scrapes, which compile the code they run, are not counted.
  for (let i = 0; i < WARMUP; i++) await get(port, '/metrics', agent)
  const latencies = []
  let bytes = 0
  let next = 0
  await Promise.all(
    Array.from({length: CLIENTS}, async () => {
      while (next++ < SCRAPES) {
        const r = await get(port, '/metrics', agent)
        if (r.status !== 200) throw new Error(`scrape answered ${r.status}`)
        latencies.push(r.ms)
        bytes = r.body.length
      }
    }),
  )
  agent.destroy()
  return {latencies: latencies.sort((a, b) => a - b), bytes}
}

const children = new Set()
const store = await startStore()
// Interrupted, the benchmark still stops what it started.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    for (const c of children) c.kill('SIGTERM')
    await store.stop()
    process.exit(130)
  })
}
const ms = (x) => x.toFixed(1)
try {
  console.log(
    `redismp serve benchmark: ${PIDS} pids, one meta key per metric key, ${SCRAPES} scrapes from ${CLIENTS} concurrent clients with gzip; idle: no walk running (--refresh 1h), busy: a walk always running (--refresh 1ms)`,
  )
  console.log(
    `metric keys | walk s (mean) | idle p50 ms | idle p99 ms | busy p50 ms | busy p99 ms | busy max ms | page KB (gzip) | RSS MB after 10 refreshes | after ${REFRESHES}`,
  )
  for (const size of SIZES) {
    await store.redis.flushdb()
    await populate(store.redis, size)
    const idleServe = await startServe('1h')
    const idle = await scrapes(idleServe.port)
    await idleServe.stop()
    process.stderr.write(`  ${size} keys, idle: p50 ${ms(percentile(idle.latencies, 50))} ms, p99 ${ms(percentile(idle.latencies, 99))} ms\n`)

    const busyServe = await startServe('1ms')
    try {
      const busy = await scrapes(busyServe.port)
      const l = busy.latencies
      process.stderr.write(`  ${size} keys, busy: p50 ${ms(percentile(l, 50))} ms, p99 ${ms(percentile(l, 99))} ms\n`)
      await waitForWalks(busyServe.port, 10)
      const rss10 = rssMb(busyServe.child.pid)
      await waitForWalks(busyServe.port, REFRESHES, busyServe.child.pid)
      const rssN = rssMb(busyServe.child.pid)
      const count = await selfMetric(busyServe.port, 'redismp_walk_duration_seconds_count')
      const sum = await selfMetric(busyServe.port, 'redismp_walk_duration_seconds_sum')
      console.log(
        [
          size,
          (sum / count).toFixed(2),
          ms(percentile(idle.latencies, 50)),
          ms(percentile(idle.latencies, 99)),
          ms(percentile(l, 50)),
          ms(percentile(l, 99)),
          ms(l.at(-1)),
          (busy.bytes / 1024).toFixed(0),
          rss10.toFixed(0),
          rssN.toFixed(0),
        ].join(' | '),
      )
      if (/warning|error/.test(busyServe.stderr())) throw new Error(`serve complained: ${busyServe.stderr()}`)
    } finally {
      await busyServe.stop()
    }
  }
} finally {
  await store.stop()
}
