/**
 * `redismp serve` when things go wrong, with real parts: SIGTERM while a
 * scrape is in flight (its walk held at a TCP proxy), the redis-server
 * killed and started again under it, and --prune-every against prune's lock
 * held by another.
 */
import {execFileSync} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import {generateLatest} from '../../src/metrics/exposition.js'
import {dump} from '../../src/ops/dump.js'
import {startProxy} from '../helpers/proxy.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'
import {families, populate, running, scrape, seedStore, SELF, startServe, until, value} from '../helpers/serve.js'

/** The store's exposition as dump makes it. */
const exposition = async (ctx: ReturnType<typeof useRedis>) => generateLatest((await dump(ctx.redis, {prefix: 'gunicorn'})).families)

describe('serve: SIGTERM', () => {
  const ctx = useRedis()

  it('SIGTERM mid-scrape: the scrape in flight gets its whole page, then the process exits 0', async () => {
    await populate(ctx.redis, 'gunicorn', 2000)
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let walkStarted!: () => void
    const started = new Promise<void>((r) => (walkStarted = r))
    // The walk's SCAN is held at the proxy until the server has stopped accepting.
    const proxy = await startProxy(
      {host: '127.0.0.1', port: ctx.server.port},
      {
        async beforeForward(chunk) {
          if (chunk.includes('SCAN')) {
            walkStarted()
            await gate
          }
        },
      },
    )
    try {
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
      expect(page.body.startsWith(await exposition(ctx))).toBe(true)
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
    await seedStore(ctx.redis, 2, 3)
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
    await seedStore(ctx.redis, 2, 3)
    const expected = await exposition(ctx)
    // A walk that ran while the seed was being written saw part of it: the page catches up with the next walk.
    const back = await until('redismp_up 1 with the whole store again', async () => {
      const p = await scrape(s)
      return p.body.startsWith(expected) ? p : undefined
    })
    expect(value(back.body, 'redismp_up')).toBe(1)
    expect((await scrape(s, '/readyz')).status).toBe(200)
    expect(await s.stop()).toBe(0)
    const lines = s.stderr().trimEnd().split('\n')
    // One line per failed walk, never a stack.
    expect(lines.filter((l) => l.startsWith('warning: walk failed: ')).length).toBeGreaterThan(0)
    // Killed during a walk, the walk lost its connection; the walks after it found the port closed.
    expect(
      lines.filter(
        (l) => !/^(serving http|warning: walk failed: (connection refused by|lost the connection to) redis:\/\/127\.0\.0\.1:\d+|walk succeeded again)/.test(l),
      ),
    ).toEqual([])
  })
})

describe('serve --prune-every', () => {
  const ctx = useRedis()

  it("prunes with prune's flags under prune's lock: skipped while another holds it, done once it is free", async () => {
    await seedStore(ctx.redis, 2, 3)
    const live = async () => (await scanAll(ctx.redis, 'gunicorn:gauge_live*:*')).length
    const before = await live()
    expect(before).toBeGreaterThan(0)
    await ctx.redis.set('gunicorn:redismp:prune-lock', 'otherhost:1:abc', 'PX', 60_000)
    const s = await startServe(['--refresh', '1h', '--prune-every', '200ms', '--stale', '1ms'], ctx.env)
    const locked = await until('a prune to find the lock held', async () => {
      const p = (await scrape(s)).body
      return (value(p, 'redismp_prunes_total{result="locked"}') ?? 0) >= 1 ? p : undefined
    })
    expect(value(locked, 'redismp_pruned_keys_total')).toBe(0)
    expect(await live()).toBe(before)
    expect(s.stderr()).toMatch(/^prune skipped: .*otherhost/m)

    await ctx.redis.del('gunicorn:redismp:prune-lock')
    const done = await until('a prune to finish', async () => {
      const p = (await scrape(s)).body
      return (value(p, 'redismp_prunes_total{result="done"}') ?? 0) >= 1 ? p : undefined
    })
    expect(await live()).toBe(0)
    expect(value(done, 'redismp_pruned_keys_total')).toBeGreaterThanOrEqual(before)
    expect(await s.stop()).toBe(0)
    expect(await ctx.redis.exists('gunicorn:redismp:prune-lock')).toBe(0)
    expect(s.stderr()).toMatch(/^prune: dead pids: /m)
  })
})
