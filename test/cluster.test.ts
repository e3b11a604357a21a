/**
 * redismp on a real Redis Cluster (3 masters + 3 replicas, one per file):
 * found from any one node or from REDIS_CLUSTER_NODES, the same dump as one
 * server and as prometheus_client for the differential scenarios, and never a
 * wrong dump when a slot migrates or a master dies during the walk.
 */
import {Redis} from 'ioredis'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {RedisConnectionError} from '../src/errors.js'
import {generateLatest} from '../src/metrics/exposition.js'
import {dump} from '../src/ops/dump.js'
import {listPids} from '../src/ops/pids.js'
import {mapRedisError} from '../src/redis/errors.js'
import {type Cluster, isCluster} from '../src/redis/cluster.js'
import {connectRedis} from '../src/redis/connect.js'
import {keySlot} from '../src/redis/slot.js'
import {loadConfig} from '../src/config/load.js'
import {runCli} from './helpers/cli.js'
import {type RedisCluster, useCluster} from './helpers/redis-cluster.js'
import {type RedisServer, startRedis} from './helpers/redis-server.js'
import {makeScenario, markDead, normalize, reference, replayIntoRedis} from './helpers/scenarios.js'

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

const dumpText = async (redis: Parameters<typeof dump>[0], prefix: string, scanCount?: number) => generateLatest((await dump(redis, {prefix, scanCount})).families)

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

  it('the CLI pointed at one node: dump, pids, pid and keys give what they give on one server', async () => {
    const scenario = makeScenario(5)
    for (const redis of [conn, singleRedis]) await replayIntoRedis(redis, 'gunicorn', scenario)
    const singleEnv = {REDIS_PORT: String(single.port)}
    const pid = String(scenario.workers[0].pid)
    for (const args of [['dump'], ['pids', '--json'], ['pid', pid, '--json'], ['keys']]) {
      const [a, b] = await Promise.all([runCli(args, ctx.env), runCli(args, singleEnv)])
      expect({args, code: a.code, stderr: a.stderr}).toEqual({args, code: 0, stderr: ''})
      expect(b.code).toBe(0)
      // Ages and set() times differ by the time between the two replays and runs: compare without them.
      const strip = (s: string) => s.replace(/"(age\w*|\w*[tT]tl\w*|newest\w*|updatedAt|lastUpdate\w*|timestamp)": [^,\n]+/g, '"$1": _')
      expect(strip(a.stdout)).toBe(strip(b.stdout))
    }
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

  it('a slot migrating when the walk starts: exit 3 naming the resharding', async () => {
    const expected = await fill('mig')
    const slot = keySlot('mig:counter:1000:metric:00000000000000000000000000000000')
    const owner = ctx.cluster.masters().indexOf(await ctx.cluster.slotOwner(slot))
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let reached!: () => void
    const migrating = new Promise<void>((r) => (reached = r))
    const migration = ctx.cluster.migrateSlot(slot, (owner + 1) % 3, {
      onStep: async ({step}) => {
        if (step === 'migrating') {
          reached()
          await held
        }
      },
    })
    await migrating
    const failure = await dump(conn, {prefix: 'mig'}).catch((e: unknown) => e)
    release()
    await migration
    expect(failure).toBeInstanceOf(RedisConnectionError)
    expect((failure as Error).message).toMatch(/slot \d+ is migrating on .* \(resharding in progress\)/)
    // Once the slot has moved, a fresh connection reads the new layout and the dump is whole again.
    const fresh = await connectRedis(loadConfig(ctx.env, {}).config)
    try {
      expect(await dumpText(fresh, 'mig')).toBe(expected)
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
      onProgress: () => {
        migrations ??= (async () => {
          for (const slot of slots) {
            const from = ctx.cluster.masters().indexOf(await ctx.cluster.slotOwner(slot))
            await ctx.cluster.migrateSlot(slot, (from + 1) % 3, {batch: 1})
          }
        })()
      },
    }).then(
      (r) => generateLatest(r.families),
      (e: unknown) => e,
    )
    fresh.disconnect()
    await migrations
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
      (e: unknown) => e,
    )
    fresh.disconnect()
    await kill
    if (typeof outcome === 'string') expect(outcome).toBe(expected)
    // As the CLI reports it: exit 3, the lost master named.
    else expect(mapRedisError(outcome, {host: 'cluster', port: 0, tls: false, cluster: true})).toMatchObject({exitCode: 3, message: expect.stringMatching(/lost the connection|cluster changed|no longer a master/)})
    const after = await connectRedis(loadConfig(ctx.cluster.env(), {}).config)
    try {
      expect(await dumpText(after, 'kill')).toBe(expected)
      expect((await listPids(after, {prefix: 'kill'})).map((p) => p.pid)).toEqual(pids)
    } finally {
      after.disconnect()
    }
  })
})
