/**
 * The self-metrics the exporter's backend API reference listed under
 * Monitoring (redis_connections_total, redis_operations_total,
 * redis_operation_duration_seconds, redis_errors_total), kept by prom-client
 * in a registry of their own: RedisStorageClient counts its operations here,
 * `redismp serve` the walks, pings and prunes it makes. A library user
 * exposes them with `await client.metrics.registry.metrics()`.
 */
import {Counter, Histogram, Registry} from 'prom-client'

import {mapRedisError} from '../redis/errors.js'

/** Seconds: a PING on a LAN takes well under a millisecond; a walk of a million keys, seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export class RedisMetrics {
  readonly registry: Registry
  private readonly connections: Counter
  private readonly operations: Counter<'operation'>
  private readonly duration: Histogram<'operation'>
  private readonly errors: Counter<'type'>

  constructor(registry = new Registry()) {
    this.registry = registry
    const registers = [registry]
    this.connections = new Counter({name: 'redis_connections_total', help: 'Connections opened to Redis.', registers})
    this.operations = new Counter({name: 'redis_operations_total', help: 'Operations sent to Redis, by operation.', labelNames: ['operation'], registers})
    this.duration = new Histogram({
      name: 'redis_operation_duration_seconds',
      help: 'Time an operation took, from first command to last reply, by operation.',
      labelNames: ['operation'],
      buckets: DURATION_BUCKETS,
      registers,
    })
    this.errors = new Counter({name: 'redis_errors_total', help: 'Operations that failed, by the kind of failure.', labelNames: ['type'], registers})
  }

  connected(count = 1): void {
    this.connections.inc(count)
  }

  /** One operation done (or failed, with `errorType`), taking `seconds`. */
  record(operation: string, seconds: number, errorType?: string): void {
    this.operations.inc({operation})
    this.duration.observe({operation}, seconds)
    if (errorType !== undefined) this.errors.inc({type: errorType})
  }

  /** Runs and records one operation; a failure is counted by its kind and rethrown. */
  async time<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return timeOperation(this, operation, run)
  }
}

/** Runs `run` and tells `recorder` how long it took, and the kind of its failure (rethrown). */
export async function timeOperation<T>(
  recorder: {record(operation: string, seconds: number, errorType?: string): void},
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  const start = process.hrtime.bigint()
  const seconds = () => Number(process.hrtime.bigint() - start) / 1e9
  try {
    const result = await run()
    recorder.record(operation, seconds())
    return result
  } catch (error) {
    recorder.record(operation, seconds(), errorType(error))
    throw error
  }
}

/**
 * The kind of a failure as a label value: our error class for the failures a
 * user can cause (RedisConnectionError, RedisTimeoutError, …), else the
 * error's own name; a small fixed set, never a message (no label explosion).
 */
export function errorType(error: unknown): string {
  // The endpoint only goes into the message, which a label never carries.
  const mapped = mapRedisError(error, {host: '', port: 0, tls: false})
  const name = (mapped ?? (error as Error))?.name
  return typeof name === 'string' && /^\w{1,64}$/.test(name) ? name : 'Error'
}
