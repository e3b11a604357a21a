/**
 * RedisStorageManager: the lifecycle of one storage connection — configure
 * from REDIS_*, connect, hand out the client and the collector, check health,
 * close. The Python manager also swaps prometheus_client's value class; here
 * the application constructs RedisValue instances through `getClient().dict()`.
 */
import {loadConfig, type RedisConfig} from '../config/load.js'
import {health, type HealthReport} from '../ops/health.js'
import type {Connection} from '../redis/cluster.js'
import {closeRedis, connectRedis, describeConnection} from '../redis/connect.js'
import {RedisStorageClient} from '../storage/client.js'
import {RedisMultiProcessCollector} from '../storage/collector.js'

export interface StorageManagerOptions {
  /** Settings; read from the REDIS_* environment when absent. */
  config?: RedisConfig
  /** Creates the connection (tests, custom clients); defaults to the fail-fast factory. */
  redisFactory?: (config: RedisConfig) => Promise<Connection>
}

export class RedisStorageManager {
  readonly config: RedisConfig
  private client?: RedisStorageClient
  private readonly factory: (config: RedisConfig) => Promise<Connection>

  constructor(options: StorageManagerOptions = {}) {
    this.config = options.config ?? loadConfig(process.env).config
    this.factory = options.redisFactory ?? connectRedis
  }

  /** Connects once; later calls reuse the connection. */
  async setup(): Promise<RedisStorageClient> {
    if (!this.client) this.client = new RedisStorageClient(await this.factory(this.config), this.config.prefix, this.config)
    return this.client
  }

  getClient(): RedisStorageClient | undefined {
    return this.client
  }

  /** A collector over this connection's prefix, or undefined before setup(). */
  getCollector(): RedisMultiProcessCollector | undefined {
    return this.client ? new RedisMultiProcessCollector(this.client.redis, {prefix: this.config.prefix}) : undefined
  }

  isConnected(): boolean {
    return this.client?.isConnected() ?? false
  }

  async healthCheck(): Promise<HealthReport> {
    const client = await this.setup()
    const c = this.config
    return health(client.redis, {prefix: c.prefix, endpoint: describeConnection(client.redis, c), ttlDisabled: c.ttlDisabled})
  }

  async close(): Promise<void> {
    if (this.client) await closeRedis(this.client.redis)
    this.client = undefined
  }
}
