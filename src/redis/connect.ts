/**
 * The one place that creates Redis connections. It fails fast: no offline
 * queue, no reconnect loop, a bounded connect and a bounded command time, and
 * the real cause (refused, WRONGPASS, TLS) instead of ioredis's
 * "Connection is closed." — a CLI must say why in one line, never hang.
 */
import {readFileSync} from 'node:fs'
import type {ConnectionOptions} from 'node:tls'

import {Redis, type RedisOptions} from 'ioredis'

import type {RedisConfig} from '../config/load.js'
import {ConfigError, RedisTimeoutError} from '../errors.js'
import {type Endpoint, mapRedisError} from './errors.js'

export type {Redis} from 'ioredis'

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new ConfigError(`cannot read the TLS ${what} file "${path}": ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
}

function tlsOptions(c: RedisConfig): ConnectionOptions | undefined {
  if (!c.tls) return undefined
  const tls: ConnectionOptions = {rejectUnauthorized: !c.tlsInsecure}
  if (c.tlsCa) tls.ca = readPem(c.tlsCa, 'CA')
  if (c.tlsCert) tls.cert = readPem(c.tlsCert, 'certificate')
  if (c.tlsKey) tls.key = readPem(c.tlsKey, 'key')
  if (c.tlsServername) tls.servername = c.tlsServername
  return tls
}

export function endpointOf(c: RedisConfig): Endpoint {
  if (c.sentinels) {
    return {host: c.sentinels.map((s) => `${s.host}:${s.port}`).join(','), port: 0, tls: c.tls, sentinelMaster: c.sentinelMaster}
  }
  return {host: c.host, port: c.port, tls: c.tls}
}

export function redisOptions(c: RedisConfig): RedisOptions {
  return {
    host: c.host,
    port: c.port,
    db: c.db,
    username: c.username,
    password: c.password,
    tls: tlsOptions(c),
    lazyConnect: true,
    connectTimeout: c.connectTimeoutMs,
    commandTimeout: c.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    autoResubscribe: false,
    connectionName: 'redismp',
    ...(c.sentinels
      ? {
          sentinels: c.sentinels,
          name: c.sentinelMaster,
          sentinelRetryStrategy: () => null,
          sentinelCommandTimeout: c.commandTimeoutMs,
          enableTLSForSentinelMode: c.tls,
        }
      : {}),
  }
}

/**
 * Opens and checks a connection. Resolves once Redis has answered a PING;
 * rejects with RedisConnectionError, RedisAuthenticationError or RedisTimeoutError.
 */
export async function connectRedis(c: RedisConfig): Promise<Redis> {
  const ep = endpointOf(c)
  const redis = new Redis(redisOptions(c))
  let lastError: unknown
  // Without a listener ioredis prints "Unhandled error event" stack traces.
  redis.on('error', (err: unknown) => {
    lastError = err
  })
  // A server that accepts TCP and never answers would hold ioredis's ready
  // check forever: bound the whole handshake ourselves.
  const budget = c.connectTimeoutMs + c.commandTimeoutMs
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisTimeoutError(`${ep.host}:${ep.port} accepted the connection but did not answer within ${budget / 1000}s`)),
      budget,
    )
  })
  try {
    await Promise.race([
      (async () => {
        await redis.connect()
        await redis.ping()
      })(),
      timeout,
    ])
    return redis
  } catch (error) {
    redis.disconnect()
    const cause = lastError && !(error instanceof RedisTimeoutError) ? lastError : error
    throw mapRedisError(cause, ep) ?? cause
  } finally {
    clearTimeout(timer)
  }
}

/** Where a connection really went, for reports: through Sentinels this is the master they named. */
export function describeConnection(redis: Redis, c: RedisConfig): string {
  const scheme = c.tls ? 'rediss' : 'redis'
  const stream = redis.stream as {remoteAddress?: string; remotePort?: number} | undefined
  const host = stream?.remoteAddress ?? c.host
  const at = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${stream?.remotePort ?? c.port}/${c.db}`
  return c.sentinels ? `${at} (master "${c.sentinelMaster}" via sentinels ${endpointOf(c).host})` : at
}

/** Closes politely when the server still answers, at once otherwise. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect()
}
