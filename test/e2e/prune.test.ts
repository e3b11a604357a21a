/**
 * flushdb and prune against real redis-server processes: what they must never
 * touch, dry runs, re-runs, the lock, interruption, and workers writing while
 * prune runs.
 */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {beforeEach, describe, expect, it} from 'vitest'

import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {prune} from '../../src/ops/prune/prune.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {Lease} from '../../src/ops/prune/lock.js'
import {RedisValue} from '../../src/storage/value.js'
import {runCli, runCliOnTty, startCli} from '../helpers/cli.js'
import {type RedisServer, scanAll, startRedis, useRedis} from '../helpers/redis-server.js'

const GLOBBY = 'app[1]*:m?'

/** Everything in db 0 and db 1, as key -> hash fields or string value. */
async function snapshot(server: RedisServer): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const db of [0, 1]) {
    const c = await server.client(db)
    let cursor = '0'
    do {
      const [next, keys] = await c.scan(cursor, 'COUNT', 1000)
      cursor = next
      for (const k of keys) out[`${db}/${k}`] = (await c.type(k)) === 'hash' ? await c.hgetall(k) : await c.get(k)
    } while (cursor !== '0')
    c.disconnect()
  }
  return out
}

/** Keys that no command of ours may touch: same db, other db, nested prefix, a prefix full of glob characters. */
async function plantSentinels(server: RedisServer, redis: Redis) {
  const h = md5Hex(originalKey('x', 'x_total', {}, ''))
  await redis.hset(`gunicorn:shadow:counter:1:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
  await redis.hset(`gunicorn:shadow:gauge_livesum:1:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
  await redis.hset(`gunicornx:counter:1:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
  await redis.set('gunicorn:not-exporter-data', 'keep me')
  await redis.set('unrelated', 'keep me')
  await redis.hset(`app1xx:mZ:gauge_livesum:10001:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
  const other = await server.client(1)
  await other.hset(`gunicorn:gauge_livesum:10001:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
  other.disconnect()
}

const isSentinel = (k: string) => /^0\/(gunicorn:shadow:|gunicornx:|gunicorn:not-exporter-data|unrelated|app1xx:)|^1\//.test(k)

describe('flushdb and prune', () => {
  const ctx = useRedis()
  beforeEach(async () => {
    await ctx.redis.flushall()
    await plantSentinels(ctx.server, ctx.redis)
    for (const prefix of ['gunicorn', GLOBBY]) {
      expect((await runCli(['seed', '--prefix', prefix, '--pids', '3', '--series', '3', '--force'], ctx.env)).code).toBe(0)
    }
  })

  it('dry runs change nothing', async () => {
    const before = await snapshot(ctx.server)
    for (const args of [
      ['flushdb', '--dry-run'],
      ['flushdb', '--all-keys', '--confirm', `127.0.0.1:${ctx.server.port}/0`, '--dry-run'],
      ['prune', '--pid', '10001', '--orphans', '--artifacts', '--older-than', '1ms', '--fix-ttl', '--dry-run'],
    ]) {
      const r = await runCli(args, ctx.env)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/would/)
    }
    expect(await snapshot(ctx.server)).toEqual(before)
  })

  it('flushdb removes only exporter keys under the prefix; a re-run is a no-op', async () => {
    const before = await snapshot(ctx.server)
    const r = await runCli(['flushdb', '--yes'], ctx.env)
    expect(r.code).toBe(0)
    const after = await snapshot(ctx.server)
    expect(Object.keys(after).filter((k) => k.startsWith('0/gunicorn:') && !isSentinel(k))).toEqual([])
    for (const k of Object.keys(before).filter(isSentinel)) expect(after[k]).toEqual(before[k])
    expect(Object.keys(after).filter((k) => k.startsWith(`0/${GLOBBY}:`)).length).toBeGreaterThan(0)
    const again = await runCli(['flushdb', '--yes'], ctx.env)
    expect(again.code).toBe(0)
    expect(await snapshot(ctx.server)).toEqual(after)
  })

  it('flushdb with a glob-character prefix deletes only that prefix', async () => {
    const before = await snapshot(ctx.server)
    expect((await runCli(['flushdb', '--prefix', GLOBBY, '--yes'], ctx.env)).code).toBe(0)
    const after = await snapshot(ctx.server)
    const gone = Object.keys(before).filter((k) => !(k in after))
    expect(gone.length).toBeGreaterThan(0)
    expect(gone.every((k) => k.startsWith(`0/${GLOBBY}:`))).toBe(true)
  })

  it('on a terminal, flushdb and prune ask first: no keeps everything (exit 4), yes goes ahead', async () => {
    const before = await snapshot(ctx.server)
    const no = await runCliOnTty(['flushdb'], ctx.env, 'n\n')
    expect(no.screen).toMatch(new RegExp(`Delete \\d+ keys under prefix "gunicorn" on redis://127\\.0\\.0\\.1:${ctx.server.port}/0\\? \\[y/N\\]`))
    expect(no.code).toBe(4)
    const pruneNo = await runCliOnTty(['prune', '--pid', '10001'], ctx.env, '\n')
    expect(pruneNo.screen).toMatch(
      new RegExp(`prune on redis://127\\.0\\.0\\.1:${ctx.server.port}/0, prefix "gunicorn": dead pids: 10001; would delete 20 keys.*Go ahead\\? \\[y/N\\]`),
    )
    expect(pruneNo.code).toBe(4)
    expect(await snapshot(ctx.server)).toEqual(before)
    const yes = await runCliOnTty(['prune', '--pid', '10001'], ctx.env, 'y\n')
    expect(yes.code).toBe(0)
    expect(yes.screen).toMatch(/prune on redis:\/\/\S+, prefix "gunicorn": dead pids: 10001; deleted 20 keys/)
  })

  it('flushdb refuses off a TTY without --yes (exit 4) and --all-keys without the right --confirm', async () => {
    const before = await snapshot(ctx.server)
    expect((await runCli(['flushdb'], ctx.env)).code).toBe(4)
    const target = `127.0.0.1:${ctx.server.port}/0`
    // A db number alone, the right db of another server, the wrong db of this one: all refused.
    for (const confirm of ['0', `127.0.0.1:${ctx.server.port + 1}/0`, `127.0.0.1:${ctx.server.port}/1`]) {
      const wrong = await runCli(['flushdb', '--all-keys', '--confirm', confirm, '--yes'], ctx.env)
      expect(wrong.code, confirm).toBe(4)
      expect(wrong.stderr.trim()).toBe(
        `error: --all-keys deletes every key of redis://${target}, not just prefix "gunicorn": name that target with --confirm ${target}`,
      )
    }
    expect(await snapshot(ctx.server)).toEqual(before)
    const all = await runCli(['flushdb', '--all-keys', '--confirm', target, '--yes'], ctx.env)
    expect(all.code).toBe(0)
    const after = await snapshot(ctx.server)
    expect(Object.keys(after).every((k) => k.startsWith('1/'))).toBe(true)
  })

  it('prune by default is mark_process_dead: live gauges and artifacts of dead pids go, the rest stays', async () => {
    const before = await snapshot(ctx.server)
    const r = await runCli(['prune', '--pid', '10002', '--yes', '--json'], ctx.env)
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({deadPids: [10_002], deletedKeys: 20, notOursKept: 0, done: {'dead-live-gauge': 10, 'dead-artifact': 10}})
    const after = await snapshot(ctx.server)
    const gone = Object.keys(before).filter((k) => !(k in after))
    expect(gone).toHaveLength(20)
    for (const k of gone) expect(k).toMatch(/^0\/gunicorn:gauge(_live\w+)?:10002:(metric|meta):/)
    const dump = await runCli(['dump', '--pid', '10002', '--json'], ctx.env)
    const types = JSON.parse(dump.stdout).families.map((f: {type: string; mode?: string}) => f.mode ?? f.type)
    expect(types).toEqual(expect.arrayContaining(['counter', 'histogram', 'summary', 'all', 'sum', 'max', 'min', 'mostrecent']))
    expect(types.some((t: string) => t.startsWith('live'))).toBe(false)
    // A re-run finds nothing to do.
    const again = await runCli(['prune', '--pid', '10002', '--yes'], ctx.env)
    expect(again.stdout).toMatch(/deleted 0 keys; nothing to prune/)
    expect(await snapshot(ctx.server)).toEqual(after)
  })

  it('--pids-from reads dead pids from a file (comments and blank lines allowed) or stdin', async () => {
    const file = join(ctx.server.dir, 'dead.txt')
    writeFileSync(file, '# workers that died\n10002\n\n10003  # oom-killed\n')
    const r = await runCli(['prune', '--pids-from', file, '--dry-run', '--json'], ctx.env)
    expect(JSON.parse(r.stdout).deadPids).toEqual([10_002, 10_003])
    const stdin = await runCli(['prune', '--pids-from', '-', '--dry-run', '--json'], ctx.env, {input: '10001\n'})
    expect(JSON.parse(stdin.stdout).deadPids).toEqual([10_001])
    writeFileSync(file, '10002\nnot-a-pid\n')
    const bad = await runCli(['prune', '--pids-from', file, '--dry-run'], ctx.env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--pids-from: line 2 of ".*dead.txt" is not a pid: "not-a-pid"/)
  })

  it('--older-than removes every stale series, and never anything outside the prefix', async () => {
    const before = await snapshot(ctx.server)
    const r = await runCli(['prune', '--older-than', '1ms', '--yes'], ctx.env)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/totals will drop/)
    const after = await snapshot(ctx.server)
    expect(Object.keys(after).filter((k) => k.startsWith('0/gunicorn:') && !isSentinel(k))).toEqual([])
    for (const k of Object.keys(before).filter(isSentinel)) expect(after[k]).toEqual(before[k])
  })

  it('--stale, --orphans, --artifacts and --fix-ttl', async () => {
    // Make 10003 stale, orphan a metric and a meta, and strip a TTL.
    for (const k of await scanAll(ctx.redis, 'gunicorn:*:10003:metric:*')) await ctx.redis.hset(k, 'updated_at', '1000.0')
    const [counter] = await scanAll(ctx.redis, 'gunicorn:counter:10001:metric:*')
    const [summaryMeta] = await scanAll(ctx.redis, 'gunicorn:summary:10001:meta:*')
    await ctx.redis.unlink(counter.replace(':metric:', ':meta:'), summaryMeta.replace(':meta:', ':metric:'))
    const [hist] = await scanAll(ctx.redis, 'gunicorn:histogram:10001:metric:*')
    await ctx.redis.persist(hist)

    const young = await runCli(['prune', '--orphans', '--yes', '--json'], ctx.env)
    expect(JSON.parse(young.stdout).deletedKeys).toBe(0) // younger than the 60s grace
    const r = await runCli(
      ['prune', '--stale', '1h', '--orphans', '--orphan-grace', '1ms', '--artifacts', '--fix-ttl', '--ttl-seconds', '120', '--yes', '--json'],
      ctx.env,
    )
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.deadPids).toEqual([10_003])
    expect(result.planned).toMatchObject({orphan: 2, 'dead-live-gauge': 10, 'dead-artifact': 10, artifact: 20, 'fix-ttl': 1})
    expect(await ctx.redis.exists(counter, summaryMeta)).toBe(0)
    const ttl = await ctx.redis.ttl(hist)
    expect(ttl).toBeGreaterThan(100)
    expect(ttl).toBeLessThanOrEqual(120)
    expect(await scanAll(ctx.redis, 'gunicorn:gauge:*')).toEqual([])
  })

  it('a held lock refuses a second prune (exit 4) and names the holder', async () => {
    const lease = await Lease.acquire(ctx.redis, 'gunicorn', 'prune-lock')
    try {
      const r = await runCli(['prune', '--pid', '10001', '--yes'], ctx.env)
      expect(r.code).toBe(4)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/another prune is running \(lock gunicorn:redismp:prune-lock held by .+ pid \d+/)
    } finally {
      await lease.release()
    }
    expect(await ctx.redis.exists('gunicorn:redismp:prune-lock')).toBe(0)
  })

  it('an ACL user that may not run scripts: exit 3 naming the permission, no lock left behind', async () => {
    await ctx.redis.call('ACL', 'SETUSER', 'noscripts', 'on', '>pw', '~*', '&*', '+@all', '-@scripting')
    const before = await snapshot(ctx.server)
    const r = await runCli(['prune', '--pid', '10001', '--yes'], {...ctx.env, REDIS_USERNAME: 'noscripts', REDIS_PASSWORD: 'pw'})
    expect(r.code).toBe(3)
    expect(r.stderr.trim()).toMatch(/^error: the ACL user lacks a permission .*NOPERM.*'eval'/)
    expect(await snapshot(ctx.server)).toEqual(before)
    // Planning needs no scripts: a dry run reads through pipelines and plans the same.
    const args = ['prune', '--pid', '10001', '--orphans', '--fix-ttl', '--dry-run', '--json']
    const scripted = JSON.parse((await runCli(args, ctx.env)).stdout)
    const piped = await runCli(args, {...ctx.env, REDIS_USERNAME: 'noscripts', REDIS_PASSWORD: 'pw'})
    expect(piped.code).toBe(0)
    expect(JSON.parse(piped.stdout)).toEqual(scripted)
  })

  it('bad prune input: nothing selected, unreadable or bad --pids-from: exit 2', async () => {
    for (const [args, pattern] of [
      [['prune', '--yes'], /nothing to prune/],
      [['prune', '--pids-from', '/nonexistent', '--yes'], /--pids-from: cannot read "\/nonexistent": ENOENT/],
      [['prune', '--stale', 'soon', '--yes'], /--stale soon: expected a duration/],
    ] as const) {
      const r = await runCli([...args], ctx.env)
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(pattern)
    }
  })
})

describe('prune under concurrency and interruption', () => {
  const ctx = useRedis()

  it('a key rewritten between plan and delete survives; the others go', async () => {
    for (let round = 0; round < 10; round++) {
      await ctx.redis.flushall()
      const dict = new RedisStorageDict(ctx.redis, 'race', {pid: 4242})
      const values = new Map<string, RedisValue>()
      for (let i = 0; i < 40; i++) {
        const v = await RedisValue.create(dict, {
          typ: 'gauge',
          metricName: `g${i}`,
          name: `g${i}`,
          labelnames: [],
          labelvalues: [],
          help: '',
          multiprocessMode: 'livesum',
        })
        await v.set(1) // the livesum metric key exists from the first write on
        values.set(dict.metricKey(v.key, 'gauge', 'livesum'), v)
      }
      for (const k of values.keys()) await ctx.redis.hset(k, 'updated_at', '1000.0')
      const rewritten = new Set<string>()
      // The worker strikes exactly in the window: after prune judged the keys stale, before it deletes.
      const result = await prune(ctx.redis, {
        prefix: 'race',
        olderThanMs: 60_000,
        scanCount: 7,
        async beforeApply(targets) {
          for (const t of targets.filter((t) => values.has(t) && Math.random() < 0.5)) {
            await values.get(t)!.inc(1)
            rewritten.add(t)
          }
        },
      })
      expect(rewritten.size).toBeGreaterThan(0)
      expect(result.keptRewritten).toBe(rewritten.size)
      for (const k of values.keys()) {
        const alive = await ctx.redis.exists(k, k.replace(':metric:', ':meta:'))
        expect(alive, `round ${round}: ${k}`).toBe(rewritten.has(k) ? 2 : 0)
      }
    }
  })

  it('a key a worker rewrites while prune runs is never lost (free-running race)', async () => {
    for (let round = 0; round < 25; round++) {
      await ctx.redis.flushall()
      const dict = new RedisStorageDict(ctx.redis, 'race', {pid: 4242})
      const values = await Promise.all(
        Array.from({length: 60}, (_, i) =>
          RedisValue.create(dict, {typ: 'gauge', metricName: `g${i}`, name: `g${i}`, labelnames: [], labelvalues: [], help: '', multiprocessMode: 'livesum'}),
        ),
      )
      // Everything looks stale to prune...
      for (const k of await scanAll(ctx.redis, 'race:*:metric:*')) await ctx.redis.hset(k, 'updated_at', '1000.0')
      // ...while the worker rewrites a random half of it during the run.
      const writer = (async () => {
        const written = new Set<number>()
        for (const i of [...values.keys()].sort(() => Math.random() - 0.5).slice(0, 30)) {
          await values[i].inc(1)
          written.add(i)
        }
        return written
      })()
      const [written, result] = await Promise.all([writer, prune(ctx.redis, {prefix: 'race', olderThanMs: 60_000, scanCount: 5})])
      for (const i of written) {
        const metric = dict.metricKey(values[i].key, 'gauge', 'livesum')
        expect(await ctx.redis.exists(metric, metric.replace(':metric:', ':meta:')), `round ${round}, g${i}`).toBe(2)
      }
      expect(result.notOursKept).toBe(0)
    }
  })

  it('SIGINT mid-prune: exit 130, lock released, store consistent, a re-run finishes', async () => {
    await ctx.redis.flushall()
    await populateDeadGauges(ctx.redis, 'big', 60_000)
    const run = startCli(['prune', '--prefix', 'big', '--pid', '7', '--yes'], ctx.server.env())
    await waitUntil(async () => (await ctx.redis.dbsize()) < 120_000)
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.code).toBe(130)
    expect(await ctx.redis.exists('big:redismp:prune-lock')).toBe(0)
    await expectPairsIntact(ctx.redis, 'big')
    const again = await runCli(['prune', '--prefix', 'big', '--pid', '7', '--yes'], ctx.server.env())
    expect(again.code).toBe(0)
    expect(await ctx.redis.dbsize()).toBe(0)
  })

  it('connection lost mid-prune: one clear line, exit 3; a re-run completes', async () => {
    await ctx.redis.flushall()
    await populateDeadGauges(ctx.redis, 'big', 60_000)
    const run = startCli(['prune', '--prefix', 'big', '--pid', '7', '--yes'], ctx.server.env())
    await waitUntil(async () => (await ctx.redis.dbsize()) < 120_000)
    await ctx.redis.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
    const r = await run.done
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: (lost the connection|connection to .* was reset)/)
    await expectPairsIntact(ctx.redis, 'big')
    await ctx.redis.del('big:redismp:prune-lock') // its holder is gone; the lease would expire in 60s
    const again = await runCli(['prune', '--prefix', 'big', '--pid', '7', '--yes'], ctx.server.env())
    expect(again.code).toBe(0)
    expect(await ctx.redis.dbsize()).toBe(0)
  })

  it('redis-server killed mid-prune: one clear line, exit 3; after a restart a re-run completes', async () => {
    // This one ctx.server keeps an append-only file, so that a restart brings its data back.
    const doomed = await startRedis({extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always']})
    try {
      let c = await doomed.client()
      await populateDeadGauges(c, 'big', 60_000)
      const run = startCli(['prune', '--prefix', 'big', '--pid', '7', '--yes'], doomed.env())
      await waitUntil(async () => (await c.dbsize()) < 120_000)
      c.disconnect()
      doomed.proc.kill('SIGKILL')
      const r = await run.done
      expect(r.code).toBe(3)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
      await doomed.restart()
      c = await doomed.client()
      expect(await c.dbsize()).toBeGreaterThan(0)
      await expectPairsIntact(c, 'big')
      await c.del('big:redismp:prune-lock')
      const again = await runCli(['prune', '--prefix', 'big', '--pid', '7', '--yes'], doomed.env())
      expect(again.code).toBe(0)
      expect(await c.dbsize()).toBe(0)
      c.disconnect()
    } finally {
      await doomed.stop()
    }
  })
})

/** Dead worker 7's livesum gauges: metric and meta per series. */
async function populateDeadGauges(redis: Redis, prefix: string, series: number) {
  let p = redis.pipeline()
  for (let i = 0; i < series; i++) {
    const id = originalKey(`g${i}`, `g${i}`, {}, '')
    const h = md5Hex(id)
    p.hset(`${prefix}:gauge_livesum:7:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1000.0'})
    p.hset(`${prefix}:gauge_livesum:7:meta:${h}`, {original_key: id, created_at: '1000.0'})
    if (p.length >= 10_000) {
      await p.exec()
      p = redis.pipeline()
    }
  }
  await p.exec()
}

/** Series go whole: no metric without its meta, no meta without its metric. */
async function expectPairsIntact(redis: Redis, prefix: string) {
  const keys = new Set(await scanAll(redis, `${prefix}:gauge_livesum:*`))
  for (const k of keys) {
    const sibling = k.includes(':metric:') ? k.replace(':metric:', ':meta:') : k.replace(':meta:', ':metric:')
    expect(keys.has(sibling), k).toBe(true)
  }
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await new Promise((r) => setTimeout(r, 5))
  }
}
