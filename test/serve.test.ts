/**
 * `redismp serve` as Prometheus meets it: a real process on a free port, real
 * HTTP (Node's fetch), a real redis-server that is killed and restarted under
 * it, promtool on the page, and `redismp dump` as the oracle of its body.
 */
import {execFileSync} from 'node:child_process'
import {request} from 'node:http'
import {gunzipSync} from 'node:zlib'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {formatKey} from '../src/metrics/keys.js'
import {md5Hex, originalKey} from '../src/metrics/pyjson.js'
import {runCli, startCli} from './helpers/cli.js'
import {startProxy} from './helpers/proxy.js'
import {freePort, scanAll, useRedis} from './helpers/redis-server.js'

interface Served {
  base: string
  port: number
  child: ReturnType<typeof startCli>['child']
  done: ReturnType<typeof startCli>['done']
  stderr: () => string
  stop(): Promise<number | null>
}

const running = new Set<Served>()
afterAll(async () => {
  for (const s of running) await s.stop()
})

/** Polls until `check` holds; the bound only keeps a broken server from hanging the run. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, boundMs = 30_000): Promise<T> {
  const end = Date.now() + boundMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function startServe(args: string[], env: Record<string, string>): Promise<Served> {
  const port = await freePort()
  const {child, done} = startCli(['serve', '--listen', `127.0.0.1:${port}`, ...args], env)
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  let exited = false
  void done.then(() => (exited = true))
  await until('serve to listen', () => /^serving http:\/\//m.test(err) || exited)
  if (exited) throw new Error(`serve exited: ${err}`)
  const served: Served = {
    base: `http://127.0.0.1:${port}`,
    port,
    child,
    done,
    stderr: () => err,
    async stop() {
      running.delete(served)
      if (!exited) child.kill('SIGTERM')
      return (await done).code
    },
  }
  running.add(served)
  return served
}

const scrape = async (s: Served, path = '/metrics') => {
  const r = await fetch(s.base + path)
  return {status: r.status, type: r.headers.get('content-type'), body: await r.text()}
}

/** The value of one sample (`name` or `name{labels}` as written) on a page. */
function value(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** The families (`# TYPE` names) on a page. */
const families = (page: string) => [...page.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1])

const SELF = /^(redis_|redismp_|process_|nodejs_)/

/** `n` counter series of one pid, written as the exporter writes them, with their metas. */
async function populate(redis: Redis, prefix: string, n: number, pids = 4): Promise<void> {
  let p = redis.pipeline()
  for (let pid = 100; pid < 100 + pids; pid++) {
    for (let i = 0; i < n / pids; i++) {
      const id = originalKey('bulk_requests', 'bulk_requests_total', {path: `/r${i}`}, 'Bulk.')
      const hash = md5Hex(id)
      p.hset(formatKey(prefix, 'counter', pid, 'metric', hash), 'value', '1.0', 'timestamp', '0.0', 'updated_at', '1700000000.5')
      p.hset(formatKey(prefix, 'counter', pid, 'meta', hash), 'original_key', id, 'created_at', '1700000000.5')
      if (p.length >= 10_000) {
        await p.exec()
        p = redis.pipeline()
      }
    }
  }
  await p.exec()
}

describe('serve: the page', () => {
  const ctx = useRedis()
  beforeAll(async () => {
    expect((await runCli(['seed', '--pids', '4', '--series', '6'], ctx.env)).code).toBe(0)
  })

  it("/metrics is dump's exposition for the same flags, then the self-metrics; promtool accepts it; gzip carries the same bytes", async () => {
    const flags = ['--metric', 'gunicorn_*', '--live-within', '10m']
    const dump = await runCli(['dump', ...flags], ctx.env)
    expect(dump.code).toBe(0)
    expect(dump.stdout).toMatch(/^# HELP gunicorn_/)
    const s = await startServe(['--refresh', '0', ...flags], ctx.env)
    const page = await scrape(s)
    expect(page.status).toBe(200)
    expect(page.type).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(page.body.startsWith(dump.stdout)).toBe(true)
    const self = page.body.slice(dump.stdout.length)
    expect(families(self).length).toBeGreaterThan(10)
    expect(families(self).filter((f) => !SELF.test(f))).toEqual([])
    for (const name of ['redis_connections_total', 'redis_operations_total', 'redis_operation_duration_seconds', 'redis_errors_total', 'redismp_up', 'redismp_walk_duration_seconds', 'redismp_walk_keys', 'redismp_walk_samples', 'redismp_walk_skipped_keys', 'redismp_walk_last_success_timestamp_seconds', 'redismp_data_age_seconds', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) {
      expect(families(self)).toContain(name)
    }
    expect(value(self, 'redismp_up')).toBe(1)
    expect(value(self, 'redismp_walk_skipped_keys{reason="artifacts"}')).toBeGreaterThan(0)
    // Every family once on the page, and promtool finds nothing to say.
    expect(new Set(families(page.body)).size).toBe(families(page.body).length)
    expect(execFileSync('promtool', ['check', 'metrics'], {input: page.body}).toString()).toBe('')

    // What a scraper that accepts gzip gets: a gzip stream (two members) of the same exposition.
    const raw = await new Promise<{encoding?: string; bytes: Buffer}>((resolve, reject) => {
      request(s.base + '/metrics', {headers: {'accept-encoding': 'gzip'}}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({encoding: res.headers['content-encoding'], bytes: Buffer.concat(chunks)}))
      })
        .on('error', reject)
        .end()
    })
    expect(raw.encoding).toBe('gzip')
    const unzipped = gunzipSync(raw.bytes).toString()
    expect(unzipped.startsWith(dump.stdout)).toBe(true)
    expect(families(unzipped)).toEqual(families(page.body))

    expect(await scrape(s, '/healthz')).toMatchObject({status: 200, body: 'ok\n'})
    expect(await scrape(s, '/readyz')).toMatchObject({status: 200, body: 'ok\n'})
    expect((await scrape(s, '/nothing')).status).toBe(404)
    expect(await s.stop()).toBe(0)
    expect(s.stderr()).toMatch(/^serving http:\/\/127\.0\.0\.1:\d+\/metrics/)
  })

  it('a store family with the name of a self-metric is served instead of it, with one warning', async () => {
    const id = originalKey('redis_connections', 'redis_connections_total', {}, 'A family of the application.')
    const hash = md5Hex(id)
    await ctx.redis.hset(formatKey('gunicorn', 'counter', 7, 'metric', hash), 'value', '42.0', 'timestamp', '0.0', 'updated_at', '1700000000.5')
    await ctx.redis.hset(formatKey('gunicorn', 'counter', 7, 'meta', hash), 'original_key', id, 'created_at', '1700000000.5')
    try {
      const s = await startServe(['--refresh', '0'], ctx.env)
      const first = (await scrape(s)).body
      await scrape(s)
      const page = (await scrape(s)).body
      expect(families(page).filter((f) => f === 'redis_connections_total')).toHaveLength(1)
      expect(page).toMatch(/^# HELP redis_connections_total A family of the application\.$/m)
      expect(value(page, 'redis_connections_total')).toBe(42)
      expect(first).toContain('redis_operations_total')
      expect(execFileSync('promtool', ['check', 'metrics'], {input: page}).toString()).toBe('')
      expect(await s.stop()).toBe(0)
      expect(s.stderr().match(/warning: .*redis_connections_total/g)).toHaveLength(1)
    } finally {
      await ctx.redis.unlink(...(await scanAll(ctx.redis, 'gunicorn:counter:7:*')))
    }
  })

  it('bad settings exit 2 naming the variable or flag', async () => {
    const bad = await runCli(['serve'], {...ctx.env, PROMETHEUS_METRICS_PORT: 'abc'})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('error: PROMETHEUS_METRICS_PORT: expected a port number from 1 to 65535, got "abc"\n')
    const listen = await runCli(['serve', '--listen', 'localhost'], ctx.env)
    expect(listen.code).toBe(2)
    expect(listen.stderr).toMatch(/^error: --listen: expected HOST:PORT/)
    const refresh = await runCli(['serve', '--refresh', '15'], ctx.env)
    expect(refresh.code).toBe(2)
    expect(refresh.stderr).toMatch(/^error: --refresh 15: expected a duration with a unit/)
    const prune = await runCli(['serve', '--stale', '10m'], ctx.env)
    expect(prune.code).toBe(2)
    expect(prune.stderr).toMatch(/need --prune-every/)
    const s = await startServe(['--refresh', '1h'], ctx.env)
    const taken = await runCli(['serve', '--listen', `127.0.0.1:${s.port}`], ctx.env)
    expect(taken.code).toBe(2)
    expect(taken.stderr).toBe(`error: cannot listen on 127.0.0.1:${s.port}: the address is already in use\n`)
    expect(await s.stop()).toBe(0)
  })
})

describe('serve: walks shared, never overlapping', () => {
  const ctx = useRedis()
  beforeAll(async () => {
    await populate(ctx.redis, 'gunicorn', 20_000)
  })

  it('50 concurrent scrapes during a walk all get 200 and the same store part, from shared walks', async () => {
    const dump = (await runCli(['dump'], ctx.env)).stdout
    expect(dump).toMatch(/^# HELP bulk_requests_total /)
    const s = await startServe(['--refresh', '0'], ctx.env)
    const pages = await Promise.all(Array.from({length: 50}, () => scrape(s)))
    expect(pages.map((p) => p.status)).toEqual(Array(50).fill(200))
    for (const p of pages) expect(p.body.slice(0, dump.length)).toBe(dump)
    const after = (await scrape(s)).body
    // One walk per scrape would be 51; scrapes that came during a walk shared it.
    const walks = value(after, 'redismp_walks_total{result="success"}')!
    expect(walks).toBeGreaterThanOrEqual(1)
    expect(walks).toBeLessThan(51)
    expect(value(after, 'redismp_walk_keys')).toBe(20_000)
    expect(await s.stop()).toBe(0)
  })

  it('background refreshes never overlap: the walks finished between two scrapes fit in the time between the ends of their last walks', async () => {
    const s = await startServe(['--refresh', '1ms'], ctx.env)
    const read = async () => {
      const page = (await scrape(s)).body
      return {
        count: value(page, 'redismp_walk_duration_seconds_count')!,
        sum: value(page, 'redismp_walk_duration_seconds_sum')!,
        end: value(page, 'redismp_walk_last_success_timestamp_seconds')!,
        failed: value(page, 'redismp_walks_total{result="failure"}'),
      }
    }
    const a = await read()
    const b = await until('five more walks', async () => {
      const r = await read()
      return r.count >= a.count + 5 ? r : undefined
    })
    expect(a.failed ?? 0).toBe(0)
    expect(b.failed ?? 0).toBe(0)
    // Serial walks that ended in (a.end, b.end] each began after a.end: their durations add up to no more than b.end - a.end
    // (plus a millisecond of rounding per walk). Walks that overlapped would add up to more.
    const walks = b.count - a.count
    expect(b.sum - a.sum).toBeLessThanOrEqual(b.end - a.end + 0.002 * walks)
    expect(await s.stop()).toBe(0)
  })

  it('SIGTERM mid-scrape: the scrape in flight gets its whole page, then the process exits 0', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let walkStarted!: () => void
    const started = new Promise<void>((r) => (walkStarted = r))
    // The walk's SCAN is held at the proxy until the server has stopped accepting.
    const proxy = await startProxy({host: '127.0.0.1', port: ctx.server.port}, {
      beforeForward: async (chunk) => {
        if (chunk.includes('SCAN')) {
          walkStarted()
          await gate
        }
      },
    })
    try {
      const dump = (await runCli(['dump'], ctx.env)).stdout
      const s = await startServe(['--refresh', '0'], {...ctx.env, REDIS_PORT: String(proxy.port)})
      const inFlight = scrape(s)
      await started
      s.child.kill('SIGTERM')
      await until('the server to stop accepting', () =>
        fetch(s.base + '/healthz').then(
          () => undefined,
          () => true,
        ),
      )
      release()
      const page = await inFlight
      expect(page.status).toBe(200)
      expect(page.body.startsWith(dump)).toBe(true)
      expect(value(page.body, 'redismp_up')).toBe(1)
      expect((await s.done).code).toBe(0)
      running.delete(s)
    } finally {
      release()
      await proxy.close()
    }
  })
})

describe('serve: Redis down and back', () => {
  const ctx = useRedis()

  it("Redis killed: 200 with the self-metrics and redismp_up 0, no store families, /readyz 503, one line per failed walk; restarted: redismp_up 1 and the store's families again", async () => {
    expect((await runCli(['seed', '--pids', '2', '--series', '3'], ctx.env)).code).toBe(0)
    const s = await startServe(['--refresh', '100ms'], ctx.env)
    const up = await scrape(s)
    expect(value(up.body, 'redismp_up')).toBe(1)
    expect(families(up.body).some((f) => f.startsWith('gunicorn_'))).toBe(true)

    ctx.redis.disconnect()
    ctx.server.proc.kill('SIGKILL')
    const down = await until('redismp_up 0', async () => {
      const p = await scrape(s)
      return value(p.body, 'redismp_up') === 0 ? p : undefined
    })
    expect(down.status).toBe(200)
    expect(families(down.body).filter((f) => !SELF.test(f))).toEqual([])
    expect(value(down.body, 'redis_errors_total{type="RedisConnectionError"}')).toBeGreaterThan(0)
    expect(execFileSync('promtool', ['check', 'metrics'], {input: down.body}).toString()).toBe('')
    const ready = await scrape(s, '/readyz')
    expect(ready.status).toBe(503)
    expect(ready.body).toMatch(/^redis: connection refused by redis:\/\/127\.0\.0\.1:\d+/)
    expect((await scrape(s, '/healthz')).status).toBe(200)

    await ctx.server.restart()
    ctx.redis = await ctx.server.client()
    expect((await runCli(['seed', '--pids', '2', '--series', '3'], ctx.env)).code).toBe(0)
    const back = await until('redismp_up 1 with the store again', async () => {
      const p = await scrape(s)
      return value(p.body, 'redismp_up') === 1 && families(p.body).some((f) => f.startsWith('gunicorn_')) ? p : undefined
    })
    const dump = (await runCli(['dump'], ctx.env)).stdout
    expect(back.body.startsWith(dump)).toBe(true)
    expect((await scrape(s, '/readyz')).status).toBe(200)
    expect(await s.stop()).toBe(0)
    const lines = s.stderr().trimEnd().split('\n')
    // One line per failed walk, never a stack.
    expect(lines.filter((l) => l.startsWith('warning: walk failed: ')).length).toBeGreaterThan(0)
    expect(lines.filter((l) => !/^(serving http|warning: walk failed: connection refused by redis:\/\/|walk succeeded again)/.test(l))).toEqual([])
  })
})

describe('serve --prune-every', () => {
  const ctx = useRedis()

  it("prunes with prune's flags under prune's lock: skipped while another holds it, done once it is free", async () => {
    expect((await runCli(['seed', '--pids', '2', '--series', '3'], ctx.env)).code).toBe(0)
    const live = async () => (await scanAll(ctx.redis, 'gunicorn:gauge_live*:*')).length
    const before = await live()
    expect(before).toBeGreaterThan(0)
    await ctx.redis.set('gunicorn:redismp:prune-lock', 'otherhost:1:abc', 'PX', 60_000)
    const locked = await startServe(['--refresh', '1h', '--prune-every', '1h', '--stale', '1ms'], ctx.env)
    const page = await until('a prune to be tried', async () => {
      const p = (await scrape(locked)).body
      return value(p, 'redismp_prunes_total{result="locked"}') === 1 ? p : undefined
    })
    expect(value(page, 'redismp_pruned_keys_total')).toBe(0)
    expect(await live()).toBe(before)
    expect(await locked.stop()).toBe(0)
    expect(locked.stderr()).toMatch(/^prune skipped: .*otherhost/m)

    await ctx.redis.del('gunicorn:redismp:prune-lock')
    const free = await startServe(['--refresh', '1h', '--prune-every', '1h', '--stale', '1ms'], ctx.env)
    const done = await until('a prune to finish', async () => {
      const p = (await scrape(free)).body
      return value(p, 'redismp_prunes_total{result="done"}') === 1 ? p : undefined
    })
    expect(await live()).toBe(0)
    expect(value(done, 'redismp_pruned_keys_total')).toBeGreaterThanOrEqual(before)
    expect(await ctx.redis.exists('gunicorn:redismp:prune-lock')).toBe(0)
    expect(await free.stop()).toBe(0)
    expect(free.stderr()).toMatch(/^prune: dead pids: /m)
  })
})
