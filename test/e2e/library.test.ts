/**
 * The library without the CLI: the storage classes and batchSet,
 * against a real redis-server.
 */
import {describe, expect, it} from 'vitest'

import {
  batchSet,
  loadConfig,
  originalKey,
  RedisConnectionError,
  RedisMultiProcessCollector,
  RedisStorageClient,
  RedisStorageDict,
  RedisStorageManager,
  RedisValue,
} from '../../src/index.js'
import {freePort, scanAll, useRedis} from '../helpers/redis-server.js'

describe('RedisStorageClient and RedisStorageDict', () => {
  const ctx = useRedis()
  const client = () => new RedisStorageClient(ctx.redis, 'lib', {ttlSeconds: 120, ttlDisabled: false})

  it('ping, set with TTL, get, exists, delete', async () => {
    const c = client()
    expect(await c.ping()).toBeGreaterThan(0)
    await c.set('lib:counter:1:metric:' + 'a'.repeat(32), {value: '1.0', timestamp: '0.0'})
    expect(await c.get('lib:counter:1:metric:' + 'a'.repeat(32))).toEqual({value: '1.0', timestamp: '0.0'})
    expect(await ctx.redis.ttl('lib:counter:1:metric:' + 'a'.repeat(32))).toBeGreaterThan(100)
    expect(await c.exists('lib:counter:1:metric:' + 'a'.repeat(32))).toBe(true)
    expect(await c.delete('lib:counter:1:metric:' + 'a'.repeat(32))).toBe(1)
    expect(await c.get('lib:counter:1:metric:' + 'a'.repeat(32))).toBeUndefined()
    const noTtl = new RedisStorageClient(ctx.redis, 'lib', {ttlSeconds: 120, ttlDisabled: true})
    await noTtl.set('lib:x', {a: '1'})
    expect(await ctx.redis.ttl('lib:x')).toBe(-1)
    await c.delete('lib:x')
  })

  it('batchSet writes many hashes, one pipeline per batch; keys() scans; flushdb() keeps to the prefix', async () => {
    const writes = Array.from({length: 2500}, (_, i) => ({
      key: `lib:counter:${i + 1}:metric:${'b'.repeat(32)}`,
      fields: {value: `${i}.0`, timestamp: '0.0', updated_at: '1000.0'},
      ttlSeconds: 60,
    }))
    expect(await batchSet(ctx.redis, writes, 1000)).toBe(2500)
    await ctx.redis.set('libx:keep', '1')
    const c = client()
    const seen = new Set<string>()
    for await (const k of c.keys('counter:*')) seen.add(k)
    expect(seen.size).toBe(2500)
    expect(await c.flushdb()).toBe(2500)
    expect(await ctx.redis.exists('libx:keep')).toBe(1)
  })

  it('dict-like access to one pid, and readAllValues over all pids', async () => {
    const c = client()
    const a = c.dict({pid: 11})
    const b = c.dict({pid: 12})
    const id = originalKey('jobs', 'jobs_total', {queue: 'default'}, 'Jobs.')
    expect(await a.get(id)).toBeUndefined()
    await a.set(id, 3)
    await b.set(id, 4)
    expect(await a.get(id)).toEqual([3, 0])
    expect(await a.has(id)).toBe(true)
    const listed: string[] = []
    for await (const k of a.keys()) listed.push(k)
    expect(listed).toEqual([id])
    expect(await a.size()).toBe(1)
    const all: number[] = []
    for await (const v of a.readAllValues()) all.push(v.value)
    expect(all.sort()).toEqual([3, 4])
    expect(await a.delete(id)).toBe(true)
    expect(await a.has(id)).toBe(false)
    expect(await b.clear()).toBe(2)
    expect(await scanAll(ctx.redis, 'lib:*')).toEqual([])
  })

  it('RedisValue: inc, dec, set, reset, get, and the value survives a new instance', async () => {
    const dict = client().dict({pid: 21})
    const params = {typ: 'gauge', metricName: 'inflight', name: 'inflight', labelnames: [], labelvalues: [], help: 'In flight.', multiprocessMode: 'max'}
    const g = await RedisValue.create(dict, params)
    await g.inc(5)
    await g.dec(2)
    expect(g.get()).toBe(3)
    expect(g.getTimestamp()).toBe(0)
    await g.set(7.5, 1_700_000_000.5)
    const again = await RedisValue.create(dict, params)
    expect([again.get(), again.getTimestamp()]).toEqual([7.5, 1_700_000_000.5])
    await again.reset()
    expect(again.get()).toBe(0)
    expect(again.getTimestamp()).toBeGreaterThan(1e9)
    expect(await dict.get(again.key, 'gauge', 'max')).toEqual([0, again.getTimestamp()])
  })

  it('RedisStorageManager: setup, isConnected, collector, health, close', async () => {
    const manager = new RedisStorageManager({config: loadConfig(ctx.env).config})
    expect(manager.isConnected()).toBe(false)
    expect(manager.getCollector()).toBeUndefined()
    await manager.setup()
    expect(manager.isConnected()).toBe(true)
    expect(await manager.getCollector()!.collect()).toEqual(expect.any(Array))
    expect((await manager.healthCheck()).probe.ok).toBe(true)
    await manager.close()
    expect(manager.isConnected()).toBe(false)
  })

  it('the collector calls afterRead once, after the last key is read and before the families are made; they are the same without it', async () => {
    const values = new RedisStorageDict(ctx.redis, 'after', {pid: 7})
    for (let i = 0; i < 40; i++) await values.writeValue(originalKey('jobs', 'jobs_total', {n: String(i)}, 'Jobs.'), i, 0, 'counter')
    const events: string[] = []
    const collector = new RedisMultiProcessCollector(ctx.redis, {
      prefix: 'after',
      scanCount: 10,
      onProgress: (n) => void events.push(`read ${n}`),
      afterRead: () => void events.push('afterRead'),
    })
    const families = await collector.collect()
    expect(events.at(-1)).toBe('afterRead')
    expect(events.filter((e) => e === 'afterRead')).toHaveLength(1)
    expect(events.at(-2)).toBe('read 40')
    expect(families).toEqual(await new RedisMultiProcessCollector(ctx.redis, {prefix: 'after'}).collect())
    expect(families[0].samples).toHaveLength(40)
  })

  it('a manager against a dead port fails with RedisConnectionError, not a hang', async () => {
    const manager = new RedisStorageManager({config: {...loadConfig({}).config, port: await freePort(), connectTimeoutMs: 1000}})
    await expect(manager.setup()).rejects.toBeInstanceOf(RedisConnectionError)
  })
})

describe('RedisStorageClient self-metrics', () => {
  const ctx = useRedis()

  it("counts and times each operation and its failures in client.metrics, the backend's redis_* names", async () => {
    const c = new RedisStorageClient(ctx.redis, 'lib')
    await c.ping()
    await c.set('lib:counter:1:metric:' + 'c'.repeat(32), {value: '1.0', timestamp: '0.0'})
    await c.get('lib:counter:1:metric:' + 'c'.repeat(32))
    await c.get('lib:counter:1:metric:' + 'c'.repeat(32))
    await ctx.redis.set('lib:a-string', 'x')
    await expect(c.get('lib:a-string')).rejects.toThrow(/WRONGTYPE/)
    const listed: string[] = []
    for await (const k of c.keys('counter:*')) listed.push(k)
    expect(listed).toHaveLength(1)
    const page = await c.metrics.registry.metrics()
    expect(page).toMatch(/^redis_operations_total\{operation="ping"\} 1$/m)
    expect(page).toMatch(/^redis_operations_total\{operation="set"\} 1$/m)
    expect(page).toMatch(/^redis_operations_total\{operation="get"\} 3$/m)
    expect(page).toMatch(/^redis_operation_duration_seconds_count\{operation="get"\} 3$/m)
    expect(page).toMatch(/^redis_operations_total\{operation="scan"\} [12]$/m)
    // WRONGTYPE is foreign data at an exporter name: counted by the class redismp maps it to.
    expect(page).toMatch(/^redis_errors_total\{type="CheckFailedError"\} 1$/m)
    expect(page).toMatch(/^# TYPE redis_connections_total counter$/m)

    const connected = await RedisStorageClient.connect(loadConfig({REDIS_PORT: String(ctx.server.port)}).config)
    try {
      expect(await connected.metrics.registry.metrics()).toMatch(/^redis_connections_total 1$/m)
    } finally {
      await connected.disconnect()
    }
  })
})
