/**
 * RedisStorageClient: the backend's handle on Redis — connection lifecycle
 * and the generic key operations, all confined to one prefix and all built on
 * SCAN and pipelines (never KEYS, never a round trip per key). Each of its
 * operations is counted and timed in `metrics` (redis_operations_total, …;
 * see redis-metrics.ts): `await client.metrics.registry.metrics()` is their
 * exposition.
 */
import type {RedisConfig} from '../config/load.js'
import {escapeGlob} from '../metrics/keys.js'
import type {Connection} from '../redis/cluster.js'
import {closeRedis, connectRedis} from '../redis/connect.js'
import {batchSet, DEFAULT_BATCH_SIZE, type HashWrite, unlinkKeys} from '../redis/pipeline.js'
import {scanBatches} from '../redis/scan.js'
import {RedisStorageDict, type StorageDictOptions} from './dict.js'
import {flushPrefix} from '../engine/keyspace.js'
import {RedisMetrics} from './redis-metrics.js'

export class RedisStorageClient {
  constructor(
    readonly redis: Connection,
    readonly prefix: string,
    private readonly ttl: {ttlSeconds: number; ttlDisabled: boolean} = {ttlSeconds: 300, ttlDisabled: false},
    readonly metrics: RedisMetrics = new RedisMetrics(),
  ) {}

  /** Connects with the fail-fast settings of the CLI and checks the server answers. */
  static async connect(config: RedisConfig, metrics = new RedisMetrics()): Promise<RedisStorageClient> {
    const redis = await metrics.time('connect', () => connectRedis(config))
    metrics.connected()
    return new RedisStorageClient(redis, config.prefix, config, metrics)
  }

  async disconnect(): Promise<void> {
    await closeRedis(this.redis)
  }

  isConnected(): boolean {
    return this.redis.status === 'ready'
  }

  /** Round-trip time of one PING, in milliseconds. */
  async ping(): Promise<number> {
    const start = process.hrtime.bigint()
    await this.metrics.time('ping', () => this.redis.ping())
    return Number(process.hrtime.bigint() - start) / 1e6
  }

  /** A stored hash, or undefined when the key does not exist. */
  async get(key: string): Promise<Record<string, string> | undefined> {
    const fields = await this.metrics.time('get', () => this.redis.hgetall(key))
    return Object.keys(fields).length > 0 ? fields : undefined
  }

  /** Writes a hash and, unless TTLs are disabled, its TTL — in one transaction. */
  async set(key: string, fields: Record<string, string>, ttlSeconds = this.defaultTtl()): Promise<void> {
    const tx = this.redis.multi().hset(key, fields)
    if (ttlSeconds !== undefined) tx.expire(key, ttlSeconds)
    await this.metrics.time('set', () => tx.exec())
  }

  /** Many hashes, one pipeline per batch. */
  batchSet(writes: Iterable<HashWrite>, batchSize = DEFAULT_BATCH_SIZE): Promise<number> {
    return this.metrics.time('batch_set', () => batchSet(this.redis, writes, batchSize))
  }

  /** UNLINKs the keys (freed in the background); returns how many existed. */
  async delete(...keys: string[]): Promise<number> {
    return keys.length === 0 ? 0 : this.metrics.time('delete', () => unlinkKeys(this.redis, keys))
  }

  async exists(key: string): Promise<boolean> {
    return (await this.metrics.time('exists', () => this.redis.exists(key))) === 1
  }

  /** Keys matching a glob below the prefix (`counter:*` means `{prefix}:counter:*`), by SCAN. */
  async *keys(pattern = '*', count = 1000): AsyncGenerator<string> {
    const batches = scanBatches(this.redis, {match: `${escapeGlob(this.prefix)}:${pattern}`, count})[Symbol.asyncIterator]()
    try {
      for (;;) {
        // Each SCAN round trip is one operation; the caller's time between them is not counted.
        const next = await this.metrics.time('scan', () => batches.next())
        if (next.done) return
        yield* next.value
      }
    } finally {
      await batches.return?.(undefined)
    }
  }

  /**
   * Deletes the exporter's keys under the prefix by SCAN + UNLINK in batches,
   * exactly as `redismp flushdb` does: not another application's nested
   * prefix, not foreign keys under ours (nor a string or list at an exporter
   * name: only hashes of the exporter's shape go), not the database's other keys.
   */
  async flushdb(): Promise<number> {
    return (await this.metrics.time('flushdb', () => flushPrefix(this.redis, this.prefix))).deleted
  }

  /** The per-process store the exporter writes through, for this prefix. */
  dict(options: StorageDictOptions = {}): RedisStorageDict {
    return new RedisStorageDict(this.redis, this.prefix, {...this.ttl, ...options})
  }

  private defaultTtl(): number | undefined {
    return this.ttl.ttlDisabled || this.ttl.ttlSeconds <= 0 ? undefined : this.ttl.ttlSeconds
  }
}
