/**
 * RedisStorageDict: the exporter's per-process store, one pid's view of the
 * keyspace. It writes exactly what the Python backend writes — the same keys,
 * the same fields and the same `repr` floats, Redis `TIME` for
 * `updated_at`/`created_at`, the same TTL rule — including its quirk of
 * writing a zero-valued bare-`gauge` twin when a live gauge is first read.
 * Each logical step is one round trip (TIME, then one MULTI), where the
 * Python code makes one per command; what lands in Redis is the same.
 */
import type {ChainableCommander} from 'ioredis'

import {formatKey, type GaugeMode, type MetricType, siblingKey, typeSegment} from '../metrics/keys.js'
import {parsePyFloat, pyFloatRepr} from '../metrics/pyfloat.js'
import {md5Hex} from '../metrics/pyjson.js'
import {type Connection, isCluster} from '../redis/cluster.js'
import {pipelineReplies, unlinkKeys} from '../redis/pipeline.js'
import {redisTime} from '../redis/time.js'
import {scanPrefix} from '../engine/keyspace.js'

export interface StorageDictOptions {
  /** The writing process; the exporter uses os.getpid(). */
  pid?: number
  ttlSeconds?: number
  ttlDisabled?: boolean
}

/** The gauge modes the exporter probes, in its order, when a gauge's mode is not given. */
const PROBED_GAUGE_MODES = ['all', 'liveall', 'live', 'max', 'min', 'sum']

export interface StoredValue {
  originalKey: string
  value: number
  timestamp: number
  pid: number
  typeSegment: string
}

export class RedisStorageDict {
  readonly pid: number
  private readonly ttl: number | undefined

  constructor(
    readonly redis: Connection,
    readonly prefix: string,
    options: StorageDictOptions = {},
  ) {
    this.pid = options.pid ?? process.pid
    const seconds = options.ttlSeconds ?? 300
    this.ttl = options.ttlDisabled || seconds <= 0 ? undefined : seconds
  }

  /** Redis server time as Python computes it: `sec + usec / 1_000_000.0`. */
  redisNow(): Promise<number> {
    return redisTime(this.redis)
  }

  metricKey(originalKey: string, type: string, mode = ''): string {
    return formatKey(this.prefix, typeSegment(type as MetricType, mode as GaugeMode), this.pid, 'metric', md5Hex(originalKey))
  }

  metaKey(originalKey: string, type: string, mode = ''): string {
    return formatKey(this.prefix, typeSegment(type as MetricType, mode as GaugeMode), this.pid, 'meta', md5Hex(originalKey))
  }

  /** Creates the meta hash (`typ`, `multiprocess_mode`, `created_at`) unless it exists. */
  async ensureMetadata(originalKey: string, typ = 'counter', mode = 'all'): Promise<void> {
    const key = this.metaKey(originalKey, typ, mode)
    const existing = await this.redis.hgetall(key)
    if (Object.keys(existing).length > 0) return
    const now = await this.redisNow()
    const tx = this.redis.multi().hset(key, {typ, multiprocess_mode: mode, created_at: pyFloatRepr(now)})
    if (this.ttl !== undefined) tx.expire(key, this.ttl)
    await tx.exec()
  }

  /** The mode recorded in metadata, probing the exporter's list of gauge modes; '' when none. */
  async modeFromMetadata(originalKey: string, type: string): Promise<string> {
    const meta = await this.redis.hgetall(this.metaKey(originalKey, type))
    if (meta.multiprocess_mode) return meta.multiprocess_mode
    if (type !== 'gauge') return ''
    const probes = await pipelineReplies(this.redis, (p) => {
      for (const mode of PROBED_GAUGE_MODES) p.exists(this.metaKey(originalKey, type, mode))
    })
    const found = probes.findIndex((r) => r.ok && r.value === 1)
    return found === -1 ? '' : PROBED_GAUGE_MODES[found]
  }

  /** Value and timestamp; a missing series is initialised to zero first, as the exporter does. */
  async readValue(originalKey: string, type = 'counter', mode = ''): Promise<[number, number]> {
    const effectiveMode = mode || (await this.modeFromMetadata(originalKey, type))
    const [value, timestamp] = await this.redis.hmget(this.metricKey(originalKey, type, effectiveMode), 'value', 'timestamp')
    if (value === null || timestamp === null) {
      await this.initValue(originalKey, type)
      return [0, 0]
    }
    return [parsePyFloat(value) ?? 0, parsePyFloat(timestamp) ?? 0]
  }

  async writeValue(originalKey: string, value: number, timestamp: number, type = 'counter', mode = ''): Promise<void> {
    const effectiveMode = mode || (await this.modeFromMetadata(originalKey, type))
    await this.writeHashes(originalKey, type, effectiveMode, value, timestamp)
  }

  /** The exporter's `_init_value`: zeros under the mode found in metadata (bare `gauge` when none). */
  private async initValue(originalKey: string, type: string): Promise<void> {
    const mode = await this.modeFromMetadata(originalKey, type)
    await this.writeHashes(originalKey, type, mode, 0, 0)
  }

  private async writeHashes(originalKey: string, type: string, mode: string, value: number, timestamp: number): Promise<void> {
    const metricKey = this.metricKey(originalKey, type, mode)
    const metaKey = this.metaKey(originalKey, type, mode)
    const updatedAt = await this.redisNow()
    const metric = (tx: ChainableCommander) => {
      tx.hset(metricKey, {value: pyFloatRepr(value), timestamp: pyFloatRepr(timestamp), updated_at: pyFloatRepr(updatedAt)})
      if (this.ttl !== undefined) tx.expire(metricKey, this.ttl)
    }
    const meta = (tx: ChainableCommander) => {
      tx.hsetnx(metaKey, 'original_key', originalKey)
      // The exporter asks TIME again for created_at; the next microsecond is as good.
      tx.hsetnx(metaKey, 'created_at', pyFloatRepr(updatedAt))
      if (this.ttl !== undefined) tx.expire(metaKey, this.ttl)
    }
    if (isCluster(this.redis)) {
      // The two keys lie in different slots, which no MULTI spans: one MULTI per key, the metric's
      // acknowledged before the meta's is sent, as prune on a cluster relies on (ops/prune/atomic.ts).
      // A crash between them leaves a metric without its meta: an orphan prune --orphans removes.
      const metricTx = this.redis.multi()
      metric(metricTx)
      await metricTx.exec()
      const metaTx = this.redis.multi()
      meta(metaTx)
      await metaTx.exec()
      return
    }
    const tx = this.redis.multi()
    metric(tx)
    meta(tx)
    await tx.exec()
  }

  /** A stored value and timestamp, or undefined; unlike readValue it never initialises. */
  async get(originalKey: string, type = 'counter', mode = ''): Promise<[number, number] | undefined> {
    const [value, timestamp] = await this.redis.hmget(this.metricKey(originalKey, type, mode), 'value', 'timestamp')
    if (value === null || timestamp === null) return undefined
    return [parsePyFloat(value) ?? Number.NaN, parsePyFloat(timestamp) ?? Number.NaN]
  }

  /** Sets a value as the exporter's write_value does (metadata included). */
  set(originalKey: string, value: number, timestamp = 0, type = 'counter', mode = ''): Promise<void> {
    return this.writeValue(originalKey, value, timestamp, type, mode)
  }

  async has(originalKey: string, type = 'counter', mode = ''): Promise<boolean> {
    return (await this.redis.exists(this.metricKey(originalKey, type, mode))) === 1
  }

  /** Removes one series of this pid, metric and meta together. */
  async delete(originalKey: string, type = 'counter', mode = ''): Promise<boolean> {
    return (await unlinkKeys(this.redis, [this.metricKey(originalKey, type, mode), this.metaKey(originalKey, type, mode)])) > 0
  }

  /** The original keys of this pid's series, by SCAN (one pipeline per batch). */
  async *keys(batchCount = 1000): AsyncGenerator<string> {
    for await (const batch of this.ownKeys('meta', batchCount)) {
      const replies = await pipelineReplies(this.redis, (p) => {
        for (const k of batch) p.hget(k, 'original_key')
      })
      for (const r of replies) if (r.ok && typeof r.value === 'string') yield r.value
    }
  }

  /** How many metric keys this pid has. */
  async size(batchCount = 1000): Promise<number> {
    let n = 0
    for await (const batch of this.ownKeys('metric', batchCount)) n += batch.length
    return n
  }

  /** Deletes every key of this pid (the exporter's cleanup_process_keys, without its 1000-key cap). */
  async clear(batchCount = 1000): Promise<number> {
    let n = 0
    for await (const batch of this.ownKeys('*', batchCount)) n += await unlinkKeys(this.redis, batch)
    return n
  }

  private async *ownKeys(kind: 'metric' | 'meta' | '*', batchCount: number): AsyncGenerator<string[]> {
    for await (const batch of scanPrefix(this.redis, this.prefix, {rest: `*:${this.pid}:${kind}:*`, count: batchCount})) {
      const ours = batch.ours.filter((k) => k.pid === this.pid).map((k) => k.key)
      if (ours.length > 0) yield ours
    }
  }

  /**
   * Every (original_key, value, timestamp) this dict's prefix holds, over all pids,
   * as the exporter's `read_all_values` yields them (each key's own meta). One pipeline per SCAN batch.
   */
  async *readAllValues(batchCount = 1000): AsyncGenerator<StoredValue> {
    for await (const {ours: parsed} of scanPrefix(this.redis, this.prefix, {rest: '*:*:metric:*', count: batchCount})) {
      const replies = await pipelineReplies(this.redis, (p) => {
        for (const k of parsed) {
          p.hget(siblingKey(k, 'meta'), 'original_key')
          p.hmget(k.key, 'value', 'timestamp')
        }
      })
      for (const [i, k] of parsed.entries()) {
        const meta = replies[2 * i]
        const values = replies[2 * i + 1]
        if (!meta.ok || !values.ok || typeof meta.value !== 'string') continue
        const [v, ts] = values.value as [string | null, string | null]
        const value = v === null ? undefined : parsePyFloat(v)
        const timestamp = ts === null ? undefined : parsePyFloat(ts)
        if (value === undefined || timestamp === undefined) continue
        yield {originalKey: meta.value, value, timestamp, pid: k.pid, typeSegment: k.typeSegment}
      }
    }
  }
}
