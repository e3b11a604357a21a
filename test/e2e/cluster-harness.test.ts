/**
 * The cluster harness itself, against real processes: the layout it promises,
 * keys spread over the masters, a slot migrated key by key with the test
 * running in between, a master killed and replaced, and nothing left behind.
 * Cluster tests of redismp stand on these promises.
 */
import type {Cluster} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type MigrationStep, type RedisCluster, startCluster} from '../helpers/redis-cluster.js'

const running = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Writes every entry through the Cluster client (auto-pipelined per node). */
async function writeAll(redis: Cluster, entries: [string, string][]): Promise<void> {
  for (let i = 0; i < entries.length; i += 1000) await Promise.all(entries.slice(i, i + 1000).map(([k, v]) => redis.set(k, v)))
}

async function readAll(redis: Cluster, keys: string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = []
  for (let i = 0; i < keys.length; i += 1000) out.push(...(await Promise.all(keys.slice(i, i + 1000).map((k) => redis.get(k)))))
  return out
}

async function keysPerMaster(cluster: RedisCluster): Promise<number[]> {
  return Promise.all(
    cluster.masters().map(async (m) => {
      const c = await cluster.nodeClient(m)
      try {
        return await c.dbsize()
      } finally {
        c.disconnect()
      }
    }),
  )
}

describe('startCluster: 3 masters + 3 replicas', () => {
  let cluster: RedisCluster
  let redis: Cluster
  let pids: number[]
  const plain: [string, string][] = Array.from({length: 10_000}, (_, i) => [`k:${i}`, `v${i}`])
  // One hash tag, so all of them sit in one slot: a migration with several MIGRATE batches.
  const tagged: [string, string][] = Array.from({length: 250}, (_, i) => [`{mig}:${i}`, `t${i}`])

  beforeAll(async () => {
    cluster = await startCluster({masters: 3, replicasPerMaster: 1})
    pids = cluster.nodes.map((n) => n.proc.pid!)
    redis = await cluster.client({enableAutoPipelining: true})
  }, 150_000)
  afterAll(async () => {
    redis?.disconnect()
    await cluster?.stop()
  })

  it('has three masters, each with one replica attached to it', async () => {
    expect(cluster.nodes).toHaveLength(6)
    expect(cluster.masters().map((m) => m.shard)).toEqual([0, 1, 2])
    for (const r of cluster.nodes.filter((n) => n.role === 'replica')) {
      const c = await cluster.nodeClient(r)
      const [role, , masterPort, state] = (await c.call('ROLE')) as [string, string, number, string]
      c.disconnect()
      expect([role, masterPort, state]).toEqual(['slave', cluster.masters()[r.shard].port, 'connected'])
    }
  })

  it('spreads keys written through the Cluster client over every master', async () => {
    await writeAll(redis, [...plain, ...tagged])
    const counts = await keysPerMaster(cluster)
    expect(counts.reduce((a, b) => a + b)).toBe(plain.length + tagged.length)
    // About a third each (the slots are split 5461/5462/5461).
    for (const n of counts) expect(n).toBeGreaterThan(plain.length / 5)
  })

  it('migrates a slot with its keys, and the test can act between the steps', {timeout: 150_000}, async () => {
    const probe = await cluster.nodeClient(cluster.masters()[0])
    const slot = (await probe.call('CLUSTER', 'KEYSLOT', '{mig}')) as number
    probe.disconnect()
    const from = await cluster.slotOwner(slot)
    const to = cluster.masters()[(from.shard + 1) % 3]
    const [src, dst] = [await cluster.nodeClient(from), await cluster.nodeClient(to)]

    const steps: string[] = []
    let midway: {key: string; moved: string | null; askingGet: string | null; error: string} | undefined
    const onStep = async (s: MigrationStep) => {
      steps.push(s.step)
      if (s.step === 'keys' && !midway) {
        // Half-way: the source sends clients after a moved key to the target, which serves it only after ASKING.
        const key = s.moved[0]
        const error = await src.get(key).then(
          () => 'no error',
          (error_: Error) => error_.message,
        )
        const moved = await dst.get(key).catch(() => null)
        // ASKING holds for the next command only (and not inside MULTI, where GET would be checked at queue time).
        await dst.asking()
        const askingGet = await dst.get(key)
        midway = {key, moved, askingGet, error}
      }
    }
    await cluster.migrateSlot(slot, to.shard, {batch: 100, onStep})

    expect(steps).toEqual(['importing', 'migrating', 'keys', 'keys', 'keys', 'assigned'])
    expect(midway!.error).toBe(`ASK ${slot} ${to.host}:${to.port}`)
    expect(midway!.moved).toBeNull() // -MOVED: the target does not own the slot yet
    expect(midway!.askingGet).toBe(new Map(tagged).get(midway!.key))
    expect(await src.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot))).toBe(0)
    expect(await dst.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot))).toBe(tagged.length)
    expect(await cluster.slotOwner(slot)).toBe(to)
    src.disconnect()
    dst.disconnect()
    // The Cluster client still maps the slot to the source: it follows the -MOVED.
    expect(
      await readAll(
        redis,
        tagged.map(([k]) => k),
      ),
    ).toEqual(tagged.map(([, v]) => v))
  })

  // Failover waits for the cluster's own failure detection: give it the harness's deadline, not the default.
  it('kills a master: its replica takes over and every key is still readable', {timeout: 150_000}, async () => {
    const before = cluster.masters()[1]
    const replica = cluster.nodes.find((n) => n.role === 'replica' && n.shard === 1)!
    const {killed, promoted} = await cluster.killMaster(1)

    expect(killed).toBe(before)
    expect(killed.proc.signalCode).toBe('SIGKILL')
    expect(promoted).toBe(replica)
    expect(cluster.masters()).toHaveLength(3)
    expect(cluster.masters()[1]).toBe(promoted)
    const c = await cluster.nodeClient(promoted)
    expect(((await c.call('ROLE')) as string[])[0]).toBe('master')
    c.disconnect()

    const fresh = await cluster.client({enableAutoPipelining: true})
    try {
      const all = [...plain, ...tagged]
      expect(
        await readAll(
          fresh,
          all.map(([k]) => k),
        ),
      ).toEqual(all.map(([, v]) => v))
    } finally {
      fresh.disconnect()
    }
    expect((await keysPerMaster(cluster)).reduce((a, b) => a + b)).toBe(plain.length + tagged.length)
  })

  it('stop() ends every redis-server it started', async () => {
    expect(pids.filter(running)).toHaveLength(5) // the killed master is gone already
    redis.disconnect()
    await cluster.stop()
    expect(pids.filter(running)).toEqual([])
  })
})

describe('startCluster with TLS, a password and an ACL user', () => {
  it('joins, serves, migrates and stops over TLS as the ACL user', {timeout: 240_000}, async () => {
    const cluster = await startCluster({
      masters: 3,
      replicasPerMaster: 1,
      tls: true,
      password: 'default-secret',
      aclUser: {name: 'metrics', password: 'user-secret'},
    })
    const pids = cluster.nodes.map((n) => n.proc.pid!)
    try {
      const redis = await cluster.client({enableAutoPipelining: true})
      const entries: [string, string][] = Array.from({length: 300}, (_, i) => [`{tls}:${i}`, `x${i}`])
      await writeAll(redis, entries)
      const c = await cluster.nodeClient(cluster.masters()[2])
      expect(await c.call('ACL', 'WHOAMI')).toBe('metrics')
      const slot = (await c.call('CLUSTER', 'KEYSLOT', '{tls}')) as number
      c.disconnect()
      // MIGRATE goes over the TLS cluster link and authenticates as the ACL user (AUTH2).
      const from = await cluster.slotOwner(slot)
      await cluster.migrateSlot(slot, (from.shard + 1) % 3)
      expect((await cluster.slotOwner(slot)).shard).toBe((from.shard + 1) % 3)
      expect(
        await readAll(
          redis,
          entries.map(([k]) => k),
        ),
      ).toEqual(entries.map(([, v]) => v))
      redis.disconnect()
    } finally {
      await cluster.stop()
    }
    expect(pids.filter(running)).toEqual([])
  })
})
