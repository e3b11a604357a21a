/**
 * redismp on a real Redis Cluster (3 masters + 3 replicas, one per file):
 * found from any one node or from REDIS_CLUSTER_NODES, the same dump as one
 * server and as prometheus_client for the differential scenarios, and never a
 * wrong dump when a slot migrates or a master dies during the walk.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {Redis} from 'ioredis'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {RedisConnectionError} from '../../src/errors.js'
import {generateLatest} from '../../src/metrics/exposition.js'
import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {dump} from '../../src/ops/dump.js'
import {listKeys, streamKeyNames, streamKeys} from '../../src/ops/keys.js'
import {prune} from '../../src/ops/prune/prune.js'
import {listPids} from '../../src/ops/pids.js'
import {stats, type StatsReport} from '../../src/ops/stats/index.js'
import {mapRedisError} from '../../src/redis/errors.js'
import {type Cluster, isCluster} from '../../src/redis/cluster.js'
import {connectRedis} from '../../src/redis/connect.js'
import {keySlot} from '../../src/redis/slot.js'
import {loadConfig} from '../../src/config/load.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {Lease} from '../../src/ops/prune/lock.js'
import {runCli} from '../helpers/cli.js'
import {scrape, startServe, value} from '../helpers/serve.js'
import {type RedisCluster, useCluster} from '../helpers/redis-cluster.js'
import {type RedisServer, startRedis} from '../helpers/redis-server.js'
import {makeScenario, markDead, normalize, reference, replayIntoRedis} from '../helpers/scenarios.js'

/** Deletes every key on every master (FLUSHALL on the Cluster client would reach one master only). */
async function flushCluster(cluster: RedisCluster): Promise<void> {
  await Promise.all(
    cluster.masters().map(async (m) => {
      const c = await cluster.nodeClient(m)
      try {
        await c.flushall()
      } finally {
        c.disconnect()
      }
    }),
  )
}

const ctx = useCluster()
let single: RedisServer
let singleRedis: Redis
/** The code under test's own connection to the cluster, found from one master's address. */
let conn: Cluster

beforeAll(async () => {
  single = await startRedis()
  singleRedis = new Redis({port: single.port, lazyConnect: true})
  await singleRedis.connect()
  const found = await connectRedis(loadConfig(ctx.env, {}).config)
  if (!isCluster(found)) throw new Error('connectRedis did not find the cluster')
  conn = found
}, 60_000)
afterAll(async () => {
  conn?.disconnect()
  singleRedis?.disconnect()
  await single?.stop()
})
beforeEach(async () => {
  await flushCluster(ctx.cluster)
  await singleRedis.flushall()
})

const dumpText = async (redis: Parameters<typeof dump>[0], prefix: string, scanCount?: number) =>
  generateLatest((await dump(redis, {prefix, scanCount})).families)

describe('connect', () => {
  it('finds the cluster from any node, or from REDIS_CLUSTER_NODES, and spreads keys over every master', async () => {
    const seeds = ctx.cluster.masters().map((m) => `${m.host}:${m.port}`)
    const viaSeeds = await connectRedis(loadConfig({REDIS_CLUSTER_NODES: seeds.slice(1).join(',')}, {}).config)
    try {
      expect(isCluster(viaSeeds)).toBe(true)
      expect((viaSeeds as Cluster).nodes('master')).toHaveLength(3)
    } finally {
      viaSeeds.disconnect()
    }
    // Every key lands on its slot's master: the slot computed here is the server's.
    const keys = Array.from({length: 50}, (_, i) => `gunicorn:counter:${i}:metric:${'ab'.repeat(16)}`)
    const node = await ctx.cluster.nodeClient(ctx.cluster.masters()[0])
    try {
      for (const k of [...keys, '{tag}x', 'a{}b', '{}{x}', 'π{é}']) expect(keySlot(k)).toBe(await node.call('CLUSTER', 'KEYSLOT', k))
    } finally {
      node.disconnect()
    }
  })

  it('REDIS_DB other than 0 on a cluster is exit 2, from one node or from seeds', async () => {
    const fromNode = await runCli(['dump'], {...ctx.env, REDIS_DB: '1'})
    expect(fromNode.code).toBe(2)
    expect(fromNode.stderr).toMatch(/^error: db 1 was asked for, but .* is a Redis Cluster node and a cluster has only db 0/m)
    const [m] = ctx.cluster.masters()
    const fromSeeds = await runCli(['dump'], {REDIS_CLUSTER_NODES: `${m.host}:${m.port}`, REDIS_DB: '2'})
    expect(fromSeeds.code).toBe(2)
    expect(fromSeeds.stderr).toMatch(/^error: REDIS_DB is 2, but a Redis Cluster has only db 0/m)
  })

  it('an unreachable seed list is exit 3 with the cause', async () => {
    const r = await runCli(['dump'], {REDIS_CLUSTER_NODES: '127.0.0.1:1', REDIS_CONNECT_TIMEOUT: '1s'})
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: .*(refused|reached)/)
  })
})

describe('reads over every master', () => {
  for (const seed of [1, 4, 7, 12, 19, 23]) {
    it(`scenario ${seed}: the cluster dumps what one server and prometheus_client show`, async () => {
      const scenario = makeScenario(seed)
      const prefix = `diff${seed}`
      for (const redis of [conn, singleRedis]) {
        await replayIntoRedis(redis, prefix, scenario)
        for (const pid of scenario.dead) await markDead(redis, prefix, pid)
      }
      const onCluster = await dumpText(conn, prefix)
      expect(onCluster).toBe(await dumpText(singleRedis, prefix))
      expect(normalize(onCluster)).toEqual(normalize(reference(scenario)))
      // Small SCAN batches interleave the masters' replies and the metas read elsewhere differently: the same bytes.
      expect(await dumpText(conn, prefix, 7)).toBe(onCluster)
    })
  }

  it('the CLI pointed at one node: dump, pids, pid, keys and stats give what they give on one server', async () => {
    const scenario = makeScenario(5)
    for (const redis of [conn, singleRedis]) await replayIntoRedis(redis, 'gunicorn', scenario)
    const singleEnv = {REDIS_PORT: String(single.port)}
    const pid = String(scenario.workers[0].pid)
    for (const args of [
      ['dump'],
      ['pids', '--json'],
      ['pid', pid, '--json'],
      ['keys'],
      ['keys', '--type', 'counter', '--kind', 'meta'],
      ['keys', '--resolve', '--json', '--limit', '0'],
    ]) {
      const [a, b] = await Promise.all([runCli(args, ctx.env), runCli(args, singleEnv)])
      expect({args, code: a.code, stderr: a.stderr}).toEqual({args, code: 0, stderr: ''})
      expect(b.code).toBe(0)
      // Ages and set() times differ by the time between the two replays and runs: compare without them.
      const strip = (s: string) => s.replaceAll(/"(age\w*|\w*Age\w*|\w*[tT]tl\w*|newest\w*|updatedAt|lastUpdate\w*|timestamp)": [^,\n]+/g, '"$1": _')
      // keys in a pipe streams in SCAN order, which differs between servers: the same set of lines.
      const same = args[0] === 'keys' && !args.includes('--json') ? (t: string) => t.split('\n').sort().join('\n') : strip
      expect(same(a.stdout)).toBe(same(b.stdout))
      expect(a.stdout).not.toBe('')
    }
  })

  it("serve pointed at one node serves the whole cluster: /metrics is dump's exposition, then the self-metrics", async () => {
    const scenario = makeScenario(6)
    await replayIntoRedis(conn, 'gunicorn', scenario)
    const [dumped, served] = await Promise.all([runCli(['dump'], ctx.env), startServe(['--refresh', '0'], ctx.env)])
    expect(dumped.code).toBe(0)
    expect(dumped.stdout).toMatch(/^# HELP /)
    const page = await scrape(served)
    expect(page.status).toBe(200)
    expect(page.body.startsWith(dumped.stdout)).toBe(true)
    expect(value(page.body, 'redismp_up')).toBe(1)
    expect(await served.stop()).toBe(0)
  })
})

describe('stats over every master', () => {
  it("counts on the cluster what it counts on one server: families, labels, pids, TTLs, dated series, and every key's memory asked of its own master", async () => {
    const scenario = makeScenario(9)
    for (const redis of [conn, singleRedis]) await replayIntoRedis(redis, 'gunicorn', scenario)
    // --exact: MEMORY USAGE of every metric key and its meta (most often on another master than the metric).
    const o = {prefix: 'gunicorn', endpoint: 'test', samples: 5, exact: true, top: 1000, staleSeconds: 3600}
    const [onCluster, onOne] = [await stats(conn, o), await stats(singleRedis, o)]
    // Bytes aside: a cluster node's MEMORY USAGE of the same hash differs a little from a plain server's.
    const counts = (r: StatsReport) => ({
      totals: {...r.totals, memoryBytes: undefined},
      families: r.families.bySeries.map(({name, type, series, keys, pids, sampledKeys, withoutTtl, newSeriesLastHour}) => ({
        name,
        type,
        series,
        keys,
        pids,
        sampledKeys,
        withoutTtl,
        newSeriesLastHour,
      })),
      labels: r.labels,
      pids: r.pids.map(({pid, keys, series}) => ({pid, keys, series})),
      ttl: r.ttl,
      memory: r.memory,
      seriesDated: r.churn.seriesDated,
    })
    expect(counts(onCluster)).toEqual(counts(onOne))
    // Not vacuous: keys were counted, their metas' created_at read (HMGET on the metas' own masters) and their memory told.
    expect(onCluster.totals.metricKeys).toBeGreaterThan(0)
    expect(onCluster.churn.seriesDated).toBe(onCluster.totals.series)
    expect(onCluster.memory.sampledKeys).toBe(onCluster.totals.metricKeys)
    // Each family's bytes near one server's (a meta's size missed, as nil from a wrong master would be, is far less).
    for (const f of onCluster.families.bySeries) {
      const one = onOne.families.bySeries.find((g) => g.name === f.name)!.memoryBytes!
      expect(f.memoryBytes! / one, f.name).toBeGreaterThan(0.75)
      expect(f.memoryBytes! / one, f.name).toBeLessThan(1.5)
    }
  })
})

/** Every key on every master, as key -> type, for "nothing else was touched". */
async function everyKey(cluster: RedisCluster): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const m of cluster.masters()) {
    const c = await cluster.nodeClient(m)
    try {
      let cursor = '0'
      do {
        const [next, keys] = (await c.scan(cursor, 'COUNT', 1000)) as [string, string[]]
        cursor = next
        for (const k of keys) out.set(k, await c.type(k))
      } while (cursor !== '0')
    } finally {
      c.disconnect()
    }
  }
  return out
}

/** Keys no command may touch: other prefixes, a nested prefix, foreign names and a non-hash at an exporter name. */
async function writeSentinels(redis: Cluster, prefix: string): Promise<string[]> {
  const h = 'ab'.repeat(16)
  const hashes = [`other:counter:1:metric:${h}`, `${prefix}:shadow:counter:1:metric:${h}`, `${prefix}:notes`]
  for (const k of hashes) await redis.hset(k, {value: '1.0', timestamp: '0.0', updated_at: '1000.0'})
  const text = `${prefix}:counter:1:meta:${h}`
  await redis.set(text, 'not a hash')
  return [...hashes, text]
}

const WRITER = fileURLToPath(new URL('../helpers/gauge-writer.mjs', import.meta.url))
const idOf = (name: string) => originalKey(name, name, {}, '')
const livesumKeys = (prefix: string, pid: number, name: string) => {
  const h = md5Hex(idOf(name))
  return [`${prefix}:gauge_livesum:${pid}:metric:${h}`, `${prefix}:gauge_livesum:${pid}:meta:${h}`]
}
/** How many of the keys exist, one EXISTS per key (they lie in many slots). */
const existing = async (redis: Cluster, keys: string[]) => (await Promise.all(keys.map((k) => redis.exists(k)))).reduce((a, b) => a + b, 0)

describe('writes', () => {
  it("flushdb deletes the prefix's exporter keys on every master and nothing else; --all-keys needs --confirm naming the cluster", async () => {
    await replayIntoRedis(conn, 'gunicorn', makeScenario(2))
    const kept = await writeSentinels(conn, 'gunicorn')
    const before = await everyKey(ctx.cluster)
    const ours = [...before.keys()].filter((k) => !kept.includes(k))
    expect(ours.length).toBeGreaterThan(20)
    const r = await runCli(['flushdb', '--yes'], ctx.env)
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    expect(r.stdout).toMatch(new RegExp(`deleted ${ours.length} keys under prefix "gunicorn" on redis://\\S+ \\(Redis Cluster, 3 masters\\)`))
    expect([...(await everyKey(ctx.cluster)).keys()].sort()).toEqual([...kept].sort())

    const masters = ctx.cluster
      .masters()
      .map((m) => `${m.host}:${m.port}`)
      .sort()
    const refused = await runCli(['flushdb', '--all-keys', '--yes', '--confirm', masters[0]], ctx.env)
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain(`--confirm ${masters.join(',')}`)
    const all = await runCli(['flushdb', '--all-keys', '--yes', '--confirm', masters.join(',')], ctx.env)
    expect({code: all.code, stderr: all.stderr}).toEqual({code: 0, stderr: ''})
    expect((await everyKey(ctx.cluster)).size).toBe(0)
  })

  it('seed writes into the cluster what it writes into one server', async () => {
    const args = ['seed', '--pids', '3', '--series', '40']
    const [a, b] = await Promise.all([runCli(args, ctx.env), runCli(args, {REDIS_PORT: String(single.port)})])
    expect({code: a.code, stderr: a.stderr}).toEqual({code: 0, stderr: ''})
    expect(b.code).toBe(0)
    expect(await dumpText(conn, 'gunicorn')).toBe(await dumpText(singleRedis, 'gunicorn'))
    expect((await everyKey(ctx.cluster)).size).toBe(await singleRedis.dbsize())
  })

  it("prune: a dead pid's series go metric and meta, orphans with --orphans, every key outside the prefix stays", async () => {
    const kept = await writeSentinels(conn, 'gunicorn')
    const live = new RedisStorageDict(conn, 'gunicorn', {pid: 4242})
    const dead = new RedisStorageDict(conn, 'gunicorn', {pid: 4343})
    for (const name of ['a', 'b', 'c', 'd']) {
      await live.set(idOf(name), 1, 0, 'gauge', 'livesum')
      await dead.set(idOf(name), 1, 0, 'gauge', 'livesum')
    }
    // The dead pid's writes are old, and one of its metas lost its metric, one metric its meta (a crash between the two writes).
    for (const name of ['a', 'b', 'c', 'd']) {
      const [metric, meta] = livesumKeys('gunicorn', 4343, name)
      await conn.hset(metric, 'updated_at', '1000.0')
      await conn.hset(meta, 'created_at', '1000.0')
    }
    const [orphanMetric] = livesumKeys('gunicorn', 4343, 'c')
    const [, orphanMeta] = livesumKeys('gunicorn', 4343, 'd')
    await conn.unlink(livesumKeys('gunicorn', 4343, 'c')[1])
    await conn.unlink(livesumKeys('gunicorn', 4343, 'd')[0])
    const r = await runCli(['prune', '--pid', '4343', '--yes', '--json'], ctx.env)
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    for (const name of ['a', 'b']) expect(await existing(conn, livesumKeys('gunicorn', 4343, name)), name).toBe(0)
    for (const name of ['a', 'b', 'c', 'd']) expect(await existing(conn, livesumKeys('gunicorn', 4242, name)), name).toBe(2)
    const o = await runCli(['prune', '--orphans', '--orphan-grace', '1ms', '--yes', '--json'], ctx.env)
    expect({code: o.code, stderr: o.stderr}).toEqual({code: 0, stderr: ''})
    expect(await existing(conn, [orphanMetric, orphanMeta])).toBe(0)
    const left = [...(await everyKey(ctx.cluster)).keys()].sort()
    expect(left).toEqual([...kept, ...['a', 'b', 'c', 'd'].flatMap((n) => livesumKeys('gunicorn', 4242, n))].sort())
  })

  it('the prune lock holds on a cluster: a held lock refuses a second prune (exit 4), a released one lets it run', async () => {
    const lease = await Lease.acquire(conn, 'gunicorn', 'prune-lock')
    try {
      const r = await runCli(['prune', '--pid', '10001', '--yes'], ctx.env)
      expect(r.code).toBe(4)
      expect(r.stderr).toMatch(/^error: another prune is running \(lock gunicorn:redismp:prune-lock held by .+ pid \d+/)
    } finally {
      await lease.release()
    }
    expect(await conn.exists('gunicorn:redismp:prune-lock')).toBe(0)
    const again = await runCli(['prune', '--pid', '10001', '--yes'], ctx.env)
    // It ran: no lock refusal, only the word that pid 10001 has nothing to prune.
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/^warning: pid 10001 has no keys under prefix "gunicorn"[^\n]*\n$/)
    expect(await conn.exists('gunicorn:redismp:prune-lock')).toBe(0)
  })

  it('prune --stale again and again while a worker process wakes pid after pid loses no fresh key', async () => {
    const prefix = 'race'
    const names = Array.from({length: 20}, (_, i) => `g${i}`)
    const pids = Array.from({length: 40}, (_, i) => 60_001 + i)
    for (const pid of pids) {
      const dict = new RedisStorageDict(conn, prefix, {pid})
      for (const name of names) await dict.set(idOf(name), 1, 0, 'gauge', 'livesum')
    }
    // Last written long ago: every pid is stale until it wakes.
    await Promise.all(
      pids.flatMap((pid) =>
        names.flatMap((n) => {
          const [metric, meta] = livesumKeys(prefix, pid, n)
          return [conn.hset(metric, 'updated_at', '1000.0'), conn.hset(meta, 'created_at', '1000.0')]
        }),
      ),
    )
    const kept = await writeSentinels(conn, prefix)
    const plan = [...pids]
      .sort(() => Math.random() - 0.5)
      .map((pid) => ({pid, pauseMs: Math.floor(Math.random() * 20), names: names.filter(() => Math.random() < 0.5)}))
    const [seed] = ctx.cluster.masters()
    const writer = spawn(process.execPath, [WRITER, String(seed.port), prefix, 'cluster'], {stdio: ['pipe', 'pipe', 'inherit']})
    const exited = new Promise<number | null>((resolve) => writer.on('close', resolve))
    let running = true
    void exited.then(() => (running = false))
    const ready = new Promise<void>((resolve) => writer.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()))
    writer.stdin.write(JSON.stringify(plan) + '\n')
    await ready
    writer.stdin.end('go\n')
    let runs = 0
    let deleted = 0
    while (running) {
      const r = await prune(conn, {prefix, staleMs: 3_600_000})
      runs++
      deleted += r.deletedKeys
    }
    expect(await exited).toBe(0)
    let lost = 0
    for (const step of plan) for (const name of step.names) if ((await existing(conn, livesumKeys(prefix, step.pid, name))) !== 2) lost++
    expect(runs).toBeGreaterThan(1)
    expect(deleted).toBeGreaterThan(0)
    expect(lost).toBe(0)
    for (const k of kept) expect(await conn.exists(k), k).toBe(1)
  })
})

describe('health', () => {
  it('reports the cluster state, slot coverage and each master: role, ping, memory and keys', async () => {
    await replayIntoRedis(conn, 'gunicorn', makeScenario(6))
    const r = await runCli(['health', '--json'], ctx.env)
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    const report = JSON.parse(r.stdout)
    expect(report.cluster).toMatchObject({state: 'ok', slotsAssigned: 16_384, slotsOk: 16_384, slotsFail: 0, knownNodes: 6, failedNodes: []})
    const addresses = ctx.cluster
      .masters()
      .map((m) => `${m.host}:${m.port}`)
      .sort()
    expect(report.cluster.masters.map((m: {address: string}) => m.address)).toEqual(addresses)
    const perMaster = await Promise.all(
      ctx.cluster.masters().map(async (m) => {
        const c = await ctx.cluster.nodeClient(m)
        try {
          return [`${m.host}:${m.port}`, await c.dbsize()] as const
        } finally {
          c.disconnect()
        }
      }),
    )
    for (const m of report.cluster.masters) {
      const keys = perMaster.find(([a]) => a === m.address)![1]
      expect(m).toMatchObject({role: 'master', keys, prefixKeys: keys})
      expect(m.pingMs).toBeGreaterThan(0)
      expect(m.usedMemory).toBeGreaterThan(0)
    }
    expect(report.keyspace.metricKeys + report.keyspace.metaKeys).toBe(perMaster.reduce((a, [, n]) => a + n, 0))
    const text = await runCli(['health'], {...ctx.env, COLUMNS: '200', NO_COLOR: '1'})
    expect(text.stdout).toMatch(/cluster\s+state ok, 16384 of 16384 slots assigned/)
    for (const a of addresses) expect(text.stdout).toMatch(new RegExp(`master ${a}\\s+master, ping`))
  })
})

describe('the cluster changing under a walk', () => {
  /** Enough keys that a walk in small batches takes many round trips per master. */
  async function fill(prefix: string): Promise<string> {
    const scenario = makeScenario(3)
    scenario.workers = Array.from({length: 30}, (_, i) => ({...scenario.workers[i % scenario.workers.length], pid: 1000 + i}))
    scenario.dead = []
    await replayIntoRedis(conn, prefix, scenario)
    return dumpText(conn, prefix)
  }

  it('a slot migrating when the walk starts: exit 3 naming the resharding, for dump and both key listings', async () => {
    const expected = await fill('mig')
    const slot = keySlot('mig:counter:1000:metric:00000000000000000000000000000000')
    const owner = ctx.cluster.masters().indexOf(await ctx.cluster.slotOwner(slot))
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let reached!: () => void
    const migrating = new Promise<void>((r) => (reached = r))
    const migration = ctx.cluster.migrateSlot(slot, (owner + 1) % 3, {
      async onStep({step}) {
        if (step === 'migrating') {
          reached()
          await held
        }
      },
    })
    await migrating
    const failures = await Promise.all(
      [
        dump(conn, {prefix: 'mig'}),
        // keys -o lines (names alone), and keys with TTLs and names resolved (read on the lanes of their masters).
        streamKeyNames(conn, {prefix: 'mig'}, async () => undefined),
        listKeys(conn, {prefix: 'mig', resolve: true}),
      ].map((walk) => walk.catch((error: unknown) => error)),
    )
    release()
    await migration
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(RedisConnectionError)
      expect((failure as Error).message).toMatch(/slot \d+ is migrating on .* \(resharding in progress\)/)
    }
    // Once the slot has moved, a fresh connection reads the new layout and the dump is whole again.
    const fresh = await connectRedis(loadConfig(ctx.env, {}).config)
    try {
      expect(await dumpText(fresh, 'mig')).toBe(expected)
    } finally {
      fresh.disconnect()
    }
  })

  it('a listing that stops at --limit while a slot moved under it: exit 3, as a whole listing would', async () => {
    await fill('lim')
    const node = await ctx.cluster.nodeClient(ctx.cluster.masters()[0])
    const ours = (await node.call('SCAN', '0', 'MATCH', 'lim:*', 'COUNT', '1000')) as [string, string[]]
    node.disconnect()
    const slot = keySlot(ours[1][0])
    const from = ctx.cluster.masters().indexOf(await ctx.cluster.slotOwner(slot))
    const fresh = await connectRedis(loadConfig(ctx.env, {}).config)
    try {
      let moved: Promise<void> | undefined
      const listings = {
        names: (o: {limit: number}) =>
          streamKeyNames(fresh, {prefix: 'lim', scanCount: 5, ...o}, async () => void (await (moved ??= ctx.cluster.migrateSlot(slot, (from + 1) % 3)))),
        rows: (o: {limit: number}) => streamKeys(fresh, {prefix: 'lim', scanCount: 5, resolve: true, ...o}, async () => undefined),
      }
      // The slot moves while the first batch is taken; the listing then stops at its limit, long before the end.
      const outcome = await listings.names({limit: 20}).catch((error: unknown) => error)
      expect(outcome).toBeInstanceOf(RedisConnectionError)
      expect((outcome as Error).message).toMatch(/the cluster changed while redismp read it/)
      // On the cluster as it now stands, a limited listing ends cleanly.
      expect((await listings.rows({limit: 20})).truncated).toBe(true)
    } finally {
      fresh.disconnect()
    }
  })

  it('slots migrated during a dump: the dump is right or fails with exit 3, never wrong', async () => {
    const expected = await fill('mid')
    // Slots that hold keys of ours, each on its way to the next master while the walk reads.
    const node = await ctx.cluster.nodeClient(ctx.cluster.masters()[0])
    const ours = (await node.call('SCAN', '0', 'MATCH', 'mid:*', 'COUNT', '1000')) as [string, string[]]
    node.disconnect()
    const slots = [...new Set(ours[1].map(keySlot))].slice(0, 3)
    const fresh = await connectRedis(loadConfig(ctx.env, {}).config)
    let migrations: Promise<void> | undefined
    const outcome = await dump(fresh, {
      prefix: 'mid',
      scanCount: 5,
      onProgress() {
        migrations ??= (async () => {
          for (const slot of slots) {
            const from = ctx.cluster.masters().indexOf(await ctx.cluster.slotOwner(slot))
            await ctx.cluster.migrateSlot(slot, (from + 1) % 3, {batch: 1})
          }
        })()
      },
    }).then(
      (r) => generateLatest(r.families),
      (error: unknown) => error,
    )
    fresh.disconnect()
    await migrations
    console.log(`slots migrated mid-dump: ${typeof outcome === 'string' ? 'the walk ended first, whole dump' : `failed: ${(outcome as Error).message}`}`)
    if (typeof outcome === 'string') expect(outcome).toBe(expected)
    else {
      expect(outcome).toBeInstanceOf(RedisConnectionError)
      expect((outcome as Error).message).toMatch(/cluster (changed|moved slot)|migrating/)
    }
  })

  it('a master killed during a dump: the dump is right or fails with exit 3; then the promoted replica serves a whole dump', async () => {
    const expected = await fill('kill')
    const pids = (await listPids(conn, {prefix: 'kill'})).map((p) => p.pid)
    const fresh = await connectRedis(loadConfig(ctx.env, {}).config)
    let kill: Promise<unknown> | undefined
    const outcome = await dump(fresh, {prefix: 'kill', scanCount: 5, onProgress: () => void (kill ??= ctx.cluster.killMaster(1))}).then(
      (r) => generateLatest(r.families),
      (error: unknown) => error,
    )
    fresh.disconnect()
    await kill
    console.log(`master killed mid-dump: ${typeof outcome === 'string' ? 'the walk ended first, whole dump' : `failed: ${(outcome as Error).message}`}`)
    if (typeof outcome === 'string') expect(outcome).toBe(expected)
    // As the CLI reports it: exit 3, the lost master named.
    else
      expect(mapRedisError(outcome, {host: 'cluster', port: 0, tls: false, cluster: true})).toMatchObject({
        exitCode: 3,
        message: expect.stringMatching(/lost the connection|cluster changed|no longer a master/),
      })
    const after = await connectRedis(loadConfig(ctx.cluster.env(), {}).config)
    try {
      expect(await dumpText(after, 'kill')).toBe(expected)
      expect((await listPids(after, {prefix: 'kill'})).map((p) => p.pid)).toEqual(pids)
    } finally {
      after.disconnect()
    }
  })

  it('health after a failover warns of the failed master; a slot that no master serves makes it unhealthy', async () => {
    const env = ctx.cluster.env()
    const after = await runCli(['health', '--json'], env)
    expect(after.code).toBe(0)
    expect(after.stderr).toMatch(/^warning: cluster node \S+ \(master,fail\) is marked down$/m)
    expect((await runCli(['health', '--strict'], env)).code).toBe(6)
    // Slot 0 taken from its master on every live node: no one serves it.
    const owner = await ctx.cluster.slotOwner(0)
    for (const n of ctx.cluster.nodes.filter((x) => x.alive)) {
      const c = await ctx.cluster.nodeClient(n)
      try {
        await c.call('CLUSTER', 'DELSLOTS', '0').catch(() => undefined)
      } finally {
        c.disconnect()
      }
    }
    const r = await runCli(['health', '--json'], {REDIS_HOST: owner.host, REDIS_PORT: String(owner.port)})
    expect(r.code).toBe(6)
    const report = JSON.parse(r.stdout)
    expect(report.cluster).toMatchObject({state: 'fail', slotsAssigned: 16_383})
    expect(report.problems).toContain('cluster_state is fail: the cluster refuses commands until every slot is served')
    expect(r.stderr).toMatch(/^warning: 1 of 16384 slots are not assigned to any master$/m)
  })
})
