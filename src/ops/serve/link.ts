/**
 * A connection that a long-running process can keep: opened on first use,
 * dropped after a failure, and opened again by the next use, so `serve`
 * lives through Redis restarts. Concurrent users share one attempt.
 */
import type {RedisConfig} from '../../config/load.js'
import type {Connection} from '../../redis/cluster.js'
import {closeRedis, connectRedis, failureOf} from '../../redis/connect.js'

/** Where connections and timed operations are counted (RedisMetrics, or a buffer a worker thread posts). */
export interface OperationSink {
  connected(count?: number): void
  record(operation: string, seconds: number, errorType?: string): void
  time<T>(operation: string, run: () => Promise<T>): Promise<T>
}

export class RedisLink {
  private redis?: Connection
  private opening?: Promise<Connection>

  constructor(
    private readonly config: RedisConfig,
    private readonly sink: OperationSink,
  ) {}

  get(): Promise<Connection> {
    if (this.redis && this.redis.status === 'ready' && !failureOf(this.redis)) return Promise.resolve(this.redis)
    this.opening ??= this.open().finally(() => (this.opening = undefined))
    return this.opening
  }

  /** After a failure: the next use opens a fresh connection (the old one may be half-dead or mid-reply). */
  drop(): void {
    this.redis?.disconnect()
    this.redis = undefined
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined)
    if (this.redis) await closeRedis(this.redis)
    this.redis = undefined
  }

  private async open(): Promise<Connection> {
    this.drop()
    const redis = await this.sink.time('connect', () => connectRedis(this.config))
    this.sink.connected()
    this.redis = redis
    return redis
  }
}
