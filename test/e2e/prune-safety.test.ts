/**
 * What prune and flushdb must get right beyond the happy path: only hashes of
 * the exporter's shape are theirs to delete or give a TTL; a full server can
 * still be pruned; a lock left by a dead run does not block cron; and every
 * destructive prompt, plan and confirmation names the server, db and prefix.
 */
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {hostname} from 'node:os'

import type {Redis} from 'ioredis'
import {beforeEach, describe, expect, it} from 'vitest'

import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {prune} from '../../src/ops/prune/prune.js'
import {RedisStorageClient} from '../../src/storage/client.js'
import {BIN, runCli} from '../helpers/cli.js'
import {scanAll, startRedis, useRedis} from '../helpers/redis-server.js'

const LOCK = 'gunicorn:redismp:prune-lock'
const h = (s: string) => md5Hex(originalKey(s, s, {}, ''))

/** Keys at exporter-shaped names that are not the exporter's hashes, all old and without TTL. */
const IMPOSTORS: Record<string, (r: Redis, key: string) => Promise<unknown>> = {
  [`gunicorn:counter:123:meta:${h('a')}`]: (r, k) => r.set(k, 'a string'),
  [`gunicorn:counter:123:metric:${h('b')}`]: (r, k) => r.set(k, '1000.0'),
  [`gunicorn:gauge_livesum:124:meta:${h('c')}`]: (r, k) => r.rpush(k, 'a', 'list'),
  [`gunicorn:gauge_livesum:124:metric:${h('d')}`]: (r, k) => r.sadd(k, 'a', 'set'),
  [`gunicorn:gauge:124:metric:${h('e')}`]: (r, k) => r.set(k, 'where an artifact would be'),
  [`gunicorn:gauge:124:meta:${h('e')}`]: (r, k) => r.zadd(k, 1, 'sorted'),
  // Hashes, but not of the exporter's shape: other fields, or a metric's fields without updated_at.
  [`gunicorn:gauge_livesum:124:metric:${h('f')}`]: (r, k) => r.hset(k, {owner: 'someone else', updated_at: '1000.0'}),
  [`gunicorn:histogram:124:metric:${h('g')}`]: (r, k) => r.hset(k, {value: '1.0', timestamp: '0.0'}),
  [`gunicorn:summary:124:meta:${h('h')}`]: (r, k) => r.hset(k, {created_at: '1000.0'}),
}

async function plantImpostors(redis: Redis) {
  for (const [key, write] of Object.entries(IMPOSTORS)) await write(redis, key)
}

/** Each impostor as it is: type, content and TTL. */
async function impostors(redis: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(IMPOSTORS)) {
    const type = await redis.type(key)
    const read: Record<string, () => Promise<unknown>> = {
      string: () => redis.get(key),
      list: () => redis.lrange(key, 0, -1),
      set: async () => (await redis.smembers(key)).sort(),
      zset: () => redis.zrange(key, '0', '-1'),
      hash: () => redis.hgetall(key),
    }
    const content = (await read[type]?.()) ?? null
    out[key] = {type, content, ttl: await redis.pttl(key)}
  }
  return out
}

/** The exporter's own writes (test/golden/wire.json), with old times, under their golden prefixes. */
async function loadGolden(redis: Redis): Promise<string[]> {
  const golden = JSON.parse(readFileSync(new URL('../golden/wire.json', import.meta.url), 'utf8')) as {
    cases: Record<string, {keys: Record<string, {fields: Record<string, string>}>}>
  }
  const keys: string[] = []
  for (const c of Object.values(golden.cases)) {
    for (const [key, {fields}] of Object.entries(c.keys)) {
      await redis.hset(key, Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, v === '<time>' ? '1000.0' : v])))
      keys.push(key)
    }
  }
  return keys
}

describe("only the exporter's hashes are ours", () => {
  const ctx = useRedis()
  beforeEach(async () => {
    await ctx.redis.flushall()
    await plantImpostors(ctx.redis)
    expect((await runCli(['seed', '--pids', '2', '--series', '3', '--force'], ctx.env)).code).toBe(0)
  })

  it('prune, whatever the reason, neither deletes nor gives a TTL to a key that is not an exporter hash, and counts it', async () => {
    const before = await impostors(ctx.redis)
    const args = ['prune', '--pid', '123', '--pid', '124', '--orphans', '--orphan-grace', '1s', '--artifacts', '--older-than', '1s', '--fix-ttl', '--json']
    const dry = await runCli([...args, '--dry-run'], ctx.env)
    expect(dry.code).toBe(0)
    const plan = JSON.parse(dry.stdout)
    expect(plan.notOursKept).toBe(Object.keys(IMPOSTORS).length)
    expect(plan.plan.filter((p: {key: string}) => p.key in IMPOSTORS)).toEqual([])
    // Make the seeded data old too: everything of the exporter's goes, the impostors stay.
    for (const k of await scanAll(ctx.redis, 'gunicorn:*:metric:*'))
      if ((await ctx.redis.type(k)) === 'hash' && !(k in IMPOSTORS)) await ctx.redis.hset(k, 'updated_at', '1000.0')
    const r = await runCli([...args, '--yes'], ctx.env)
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.notOursKept).toBe(Object.keys(IMPOSTORS).length)
    expect(await impostors(ctx.redis)).toEqual(before)
    expect((await scanAll(ctx.redis, 'gunicorn:*')).sort()).toEqual(Object.keys(IMPOSTORS).sort())
  })

  it('flushdb and the library’s RedisStorageClient.flushdb leave them alone, and say so', async () => {
    const before = await impostors(ctx.redis)
    const n = Object.keys(IMPOSTORS).length
    const text = await runCli(['flushdb', '--dry-run'], ctx.env)
    expect(text.stdout).toMatch(new RegExp(`\\(left alone: ${n} not exporter hashes\\)\n`))
    const dry = JSON.parse((await runCli(['flushdb', '--dry-run', '--json'], ctx.env)).stdout)
    expect(dry.notOursKept).toBe(n)
    const r = await runCli(['flushdb', '--yes', '--json'], ctx.env)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({notOursKept: n, deleted: dry.keys})
    expect(await impostors(ctx.redis)).toEqual(before)
    expect((await scanAll(ctx.redis, 'gunicorn:*')).sort()).toEqual(Object.keys(IMPOSTORS).sort())

    expect((await runCli(['seed', '--pids', '2', '--series', '3', '--force'], ctx.env)).code).toBe(0)
    const deleted = await new RedisStorageClient(ctx.redis, 'gunicorn').flushdb()
    expect(deleted).toBeGreaterThan(0)
    expect(await impostors(ctx.redis)).toEqual(before)
    expect((await scanAll(ctx.redis, 'gunicorn:*')).sort()).toEqual(Object.keys(IMPOSTORS).sort())
  })

  it("every key the exporter itself writes (test/golden/wire.json) is of the exporter's shape: prune and flushdb take them all", async () => {
    await ctx.redis.flushall()
    const keys = await loadGolden(ctx.redis)
    const prefixes = [...new Set(keys.map((k) => k.split(':').slice(0, 2).join(':')))]
    expect(prefixes).toEqual(['golden:no-ttl', 'golden:ttl'])
    const pruned = await runCli(['prune', '--prefix', prefixes[0], '--older-than', '1s', '--orphans', '--orphan-grace', '1s', '--yes', '--json'], ctx.env)
    expect(JSON.parse(pruned.stdout)).toMatchObject({notOursKept: 0, deletedKeys: keys.filter((k) => k.startsWith(`${prefixes[0]}:`)).length})
    const flushed = await runCli(['flushdb', '--prefix', prefixes[1], '--yes', '--json'], ctx.env)
    expect(JSON.parse(flushed.stdout)).toMatchObject({notOursKept: 0, deleted: keys.filter((k) => k.startsWith(`${prefixes[1]}:`)).length})
    expect(await ctx.redis.dbsize()).toBe(0)
  })

  it('a key replaced by something else between the plan and the delete is left alone', async () => {
    await ctx.redis.flushall()
    const id = originalKey('g', 'g', {}, '')
    const [metric, meta] = ['metric', 'meta'].map((kind) => `gunicorn:gauge_livesum:7:${kind}:${md5Hex(id)}`)
    const [metric2, meta2] = ['metric', 'meta'].map((kind) => `gunicorn:gauge_livesum:7:${kind}:${h('other')}`)
    for (const [m, mm] of [
      [metric, meta],
      [metric2, meta2],
    ]) {
      await ctx.redis.hset(m, {value: '1.0', timestamp: '0.0', updated_at: '1000.0'})
      await ctx.redis.hset(mm, {original_key: id, created_at: '1000.0'})
    }
    const result = await prune(ctx.redis, {
      prefix: 'gunicorn',
      pids: [7],
      async beforeApply() {
        // Another application takes over a planned metric key, and the meta of another planned series.
        await ctx.redis.del(metric, meta2)
        await ctx.redis.set(metric, 'not a hash any more')
        await ctx.redis.rpush(meta2, 'a list now')
      },
    })
    expect(await ctx.redis.get(metric)).toBe('not a hash any more')
    expect(await ctx.redis.lrange(meta2, 0, -1)).toEqual(['a list now'])
    expect(await ctx.redis.exists(metric2)).toBe(0)
    expect(result.notOursKept).toBe(1)
  })

  it("without --orphans or --fix-ttl prune reads only the metas of the pairs that go; a going pair's meta that is not an exporter hash stays, counted", async () => {
    await ctx.redis.flushall()
    const [now] = await ctx.redis.time()
    const pair = (pid: number, type: string, name: string) => ['metric', 'meta'].map((kind) => `gunicorn:${type}:${pid}:${kind}:${h(name)}`)
    // pid 7 wrote last long ago: its three live gauges go. pid 8 writes now: its 50 counters stay, and so do their metas.
    const going = ['a', 'b', 'c'].map((name) => pair(7, 'gauge_livesum', name))
    const staying = Array.from({length: 50}, (_, i) => pair(8, 'counter', `n${i}`))
    for (const [[metric, meta], updatedAt] of [...going.map((p) => [p, '1000.0'] as const), ...staying.map((p) => [p, `${now}.0`] as const)]) {
      await ctx.redis.hset(metric, {value: '1.0', timestamp: '0.0', updated_at: updatedAt})
      await ctx.redis.hset(meta, {original_key: 'x', created_at: '1000.0'})
    }
    const impostor = going[0][1]
    await ctx.redis.del(impostor)
    await ctx.redis.rpush(impostor, 'a', 'list')
    const hmgets = async () => Number(/cmdstat_hmget:calls=(\d+)/.exec(await ctx.redis.info('commandstats'))?.[1] ?? 0)

    const before = await hmgets()
    const dry = await prune(ctx.redis, {prefix: 'gunicorn', staleMs: 60_000, dryRun: true, listPlan: true})
    // One read per metric key and one per meta of a pair that goes: none of the 50 counters' metas (their read would be 103 or more).
    const read = (await hmgets()) - before
    expect(read).toBeGreaterThanOrEqual(53)
    expect(read).toBeLessThanOrEqual(56)
    expect(dry.deadPids).toEqual([7])
    expect(dry.planned['dead-live-gauge']).toBe(5)
    expect(dry.notOursKept).toBe(1)
    expect(dry.plan!.map((p) => p.key).sort()).toEqual(
      going
        .flat()
        .filter((k) => k !== impostor)
        .sort(),
    )

    const result = await prune(ctx.redis, {prefix: 'gunicorn', staleMs: 60_000})
    expect(result.done['dead-live-gauge']).toBe(5)
    expect(result.notOursKept).toBeGreaterThanOrEqual(1)
    expect(await ctx.redis.lrange(impostor, 0, -1)).toEqual(['a', 'list'])
    expect((await scanAll(ctx.redis, 'gunicorn:*')).sort()).toEqual([impostor, ...staying.flat()].sort())
  })
})

describe('a full server (maxmemory reached, noeviction)', () => {
  it('prune frees it (exit 0) and releases its lock; flushdb and --fix-ttl work there too', async () => {
    const server = await startRedis({extraArgs: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']})
    const redis = await server.client()
    try {
      const fill = async (pid: number) => {
        for (let batch = 0; ; batch++) {
          const p = redis.pipeline()
          for (let i = 0; i < 200; i++) {
            const id = originalKey(`g${batch}_${i}`, `g${batch}_${i}`, {}, '')
            p.hset(`gunicorn:gauge_livesum:${pid}:metric:${md5Hex(id)}`, {value: '1.0', timestamp: '0.0', updated_at: '1000.0'})
            p.hset(`gunicorn:gauge_livesum:${pid}:meta:${md5Hex(id)}`, {original_key: id, created_at: '1000.0'})
          }
          const replies = (await p.exec()) ?? []
          // Full when even a small write is refused (a big pipeline's own buffers count for a moment).
          if (replies.some(([e]) => e && /OOM/.test(String(e))) && (await redis.set('probe', 'x').catch(String)) !== 'OK') return
          await redis.del('probe')
        }
      }
      const oom = async () => expect(redis.set('probe', 'x')).rejects.toThrow(/OOM/)

      await fill(7)
      await oom()
      const before = await redis.dbsize()
      const pruned = await runCli(['prune', '--pid', '7', '--yes', '--json'], server.env())
      expect(pruned.stderr).toBe('')
      expect(pruned.code).toBe(0)
      expect(JSON.parse(pruned.stdout).deletedKeys).toBe(before)
      expect(await redis.exists(LOCK)).toBe(0)
      expect(await redis.set('probe', 'x')).toBe('OK')
      await redis.del('probe')

      await fill(8)
      await oom()
      const ttl = await runCli(['prune', '--fix-ttl', '--yes', '--json'], server.env())
      expect(ttl.code).toBe(0)
      expect(JSON.parse(ttl.stdout).ttlFixed).toBe(await redis.dbsize())
      const flushed = await runCli(['flushdb', '--yes'], server.env())
      expect(flushed.code).toBe(0)
      expect(await redis.dbsize()).toBe(0)
    } finally {
      redis.disconnect()
      await server.stop()
    }
  })
})

describe('a lock left behind', () => {
  const ctx = useRedis()
  beforeEach(async () => {
    await ctx.redis.flushall()
    expect((await runCli(['seed', '--pids', '2', '--series', '3', '--force'], ctx.env)).code).toBe(0)
  })

  const pruneOnce = () => runCli(['prune', '--pid', '10001', '--yes'], ctx.env)

  it('by a prune of this host whose pid no longer runs is taken over, with one warning', async () => {
    const gone = spawnSync('true').pid!
    await ctx.redis.set(LOCK, `${hostname()}:${gone}:0b7d5d8e-3c1f-4a51-9d0e-1f2a3b4c5d6e`, 'PX', 60_000)
    const r = await pruneOnce()
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(`warning: took over the lock ${LOCK} from ${hostname()} pid ${gone}: pid ${gone} no longer runs on this host\n`)
    expect(r.stdout).toMatch(/deleted 20 keys/)
    expect(await ctx.redis.exists(LOCK)).toBe(0)
  })

  it('without an expiry is treated as expired: taken over, with one warning', async () => {
    await ctx.redis.set(LOCK, 'another-host:4242:0b7d5d8e-3c1f-4a51-9d0e-1f2a3b4c5d6e')
    const r = await pruneOnce()
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(`warning: took over the lock ${LOCK} from another-host pid 4242: the lock had no expiry\n`)
    expect(await ctx.redis.exists(LOCK)).toBe(0)
  })

  it('by a live run, or by another host, with an expiry: refused (exit 4), the lock untouched', async () => {
    for (const holder of [`${hostname()}:${process.pid}:0b7d5d8e`, 'another-host:4242:0b7d5d8e']) {
      await ctx.redis.set(LOCK, holder, 'PX', 60_000)
      const r = await pruneOnce()
      expect(r.code, holder).toBe(4)
      expect(r.stderr).toMatch(/^error: another prune is running \(lock gunicorn:redismp:prune-lock held by .+ pid \d+, \d+s left\); try again later\n$/)
      expect(await ctx.redis.get(LOCK)).toBe(holder)
      expect(await ctx.redis.pttl(LOCK)).toBeGreaterThan(0)
    }
  })
})

describe('destructive commands name their target', () => {
  const ctx = useRedis()
  beforeEach(async () => {
    await ctx.redis.flushall()
    expect((await runCli(['seed', '--pids', '3', '--series', '3', '--force'], ctx.env)).code).toBe(0)
  })

  it('prune --dry-run names server, db and prefix, and says how much of the plan the sample shows', async () => {
    const r = await runCli(['prune', '--pid', '10001', '--pid', '10002', '--pid', '10003', '--dry-run'], ctx.env)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(
      `prune on redis://127.0.0.1:${ctx.server.port}/0, prefix "gunicorn": dead pids: 10001 10002 10003; would delete 60 keys (30 dead-live-gauge, 30 dead-artifact)`,
    )
    expect(lines.slice(1, 11).every((l) => /^ {2}dead-(live-gauge|artifact) +gunicorn:/.test(l))).toBe(true)
    expect(lines.slice(11)).toEqual(['  (showing 10 of 60; --json lists them all)'])
  })

  it('prune --dry-run --json carries the whole plan: every key a real run then deletes, with its reason', async () => {
    const dry = await runCli(['prune', '--pid', '10002', '--orphans', '--orphan-grace', '1s', '--dry-run', '--json'], ctx.env)
    const plan = JSON.parse(dry.stdout)
    expect(plan).toMatchObject({target: `redis://127.0.0.1:${ctx.server.port}/0`, prefix: 'gunicorn', dryRun: true})
    expect(plan.plan).toHaveLength(20)
    expect(new Set(plan.plan.map((p: {reason: string}) => p.reason))).toEqual(new Set(['dead-live-gauge', 'dead-artifact']))
    const before = new Set(await scanAll(ctx.redis, 'gunicorn:*'))
    const real = await runCli(['prune', '--pid', '10002', '--orphans', '--orphan-grace', '1s', '--yes', '--json'], ctx.env)
    expect(real.code).toBe(0)
    expect(JSON.parse(real.stdout).plan).toBeUndefined()
    const after = new Set(await scanAll(ctx.redis, 'gunicorn:*'))
    const gone = [...before].filter((k) => !after.has(k)).sort()
    expect(plan.plan.map((p: {key: string}) => p.key).sort()).toEqual(gone)
  })

  it('on a terminal the question names the target, and the run after "y" judges liveness again', async () => {
    for (const k of await scanAll(ctx.redis, 'gunicorn:*:10003:metric:*')) await ctx.redis.hset(k, 'updated_at', '1000.0')
    const before = (await scanAll(ctx.redis, 'gunicorn:*:10003:*')).sort()
    const tty = onTty(['prune', '--stale', '1h'], ctx.env)
    await tty.waitFor(
      new RegExp(`prune on redis://127\\.0\\.0\\.1:${ctx.server.port}/0, prefix "gunicorn": dead pids: 10003; would delete 20 keys .*Go ahead\\? \\[y/N\\]`),
    )
    // While the question waits, worker 10003 writes again: it is alive now.
    const [sec] = await ctx.redis.time()
    const [gauge] = await scanAll(ctx.redis, 'gunicorn:gauge_livesum:10003:metric:*')
    await ctx.redis.hset(gauge, 'updated_at', `${sec}.0`)
    const r = await tty.answer('y\n')
    expect(r.code).toBe(0)
    expect(r.screen).toMatch(/prune on \S+, prefix "gunicorn": deleted 0 keys; nothing to prune/)
    expect((await scanAll(ctx.redis, 'gunicorn:*:10003:*')).sort()).toEqual(before)
  })

  it('flushdb --dry-run names the target and how much the sample shows', async () => {
    const r = await runCli(['flushdb', '--dry-run'], ctx.env)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^flushdb: would delete (\\d+) keys under prefix "gunicorn" on redis://127\\.0\\.0\\.1:${ctx.server.port}/0$`))
    const total = Number(/would delete (\d+)/.exec(lines[0])![1])
    expect(lines.at(-1)).toBe(`  (showing 10 of ${total})`)
  })

  it('flushdb says what it leaves under the prefix, and only what there is', async () => {
    await ctx.redis.set('gunicorn:something-else', '1')
    await ctx.redis.hset(`gunicorn:shadow:counter:1:metric:${'c'.repeat(32)}`, {value: '1.0'})
    const [first] = (await runCli(['flushdb', '--dry-run'], ctx.env)).stdout.split('\n')
    expect(first).toMatch(/ on redis:\/\/\S+ \(left alone: 1 foreign, 1 under nested prefixes\)$/)
  })
})

/** The CLI on a pseudo-terminal (util-linux `script`), answered once what it shows matches. */
function onTty(args: string[], env: Record<string, string>) {
  const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`
  const command = [
    'env',
    ...Object.entries({NO_COLOR: '1', ...env}).map(([k, v]) => `${k}=${quote(v)}`),
    quote(process.execPath),
    quote(BIN),
    ...args.map(quote),
  ].join(' ')
  const child = spawn('script', ['-qec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
  let screen = ''
  const seen: (() => void)[] = []
  const collect = (d: Buffer) => {
    screen += d
    for (const check of seen) check()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const done = new Promise<number | null>((resolve) => child.on('close', resolve))
  return {
    waitFor: (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => pattern.test(screen) && resolve()
        seen.push(check)
        check()
        void done.then(() => reject(new Error(`exited before showing ${pattern}: ${screen}`)))
      }),
    async answer(text: string) {
      child.stdin.end(text)
      return {code: await done, screen}
    },
  }
}
