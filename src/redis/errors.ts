/**
 * Turns what ioredis and Node report into one of our three Redis errors with a
 * line a person can act on. ioredis's own `connect()` only says "Connection is
 * closed.", so the cause is taken from the last 'error' event when there is one.
 */
import {CheckFailedError, RedisAuthenticationError, RedisConnectionError, RedisTimeoutError, RedismpError} from '../errors.js'

export interface Endpoint {
  host: string
  port: number
  tls: boolean
  /** Set when the master is found through Sentinels (then host lists them). */
  sentinelMaster?: string
}

const AUTH_REPLY = /^(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i
const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|ERR_OSSL_|HOSTNAME_MISMATCH)/

function where(ep: Endpoint): string {
  if (ep.sentinelMaster) return `master "${ep.sentinelMaster}" via sentinels ${ep.host}`
  return `${ep.tls ? 'rediss' : 'redis'}://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim()
}

/**
 * Maps an error seen while talking to Redis to our error classes; ours pass
 * through unchanged; anything that did not come from Redis gives undefined.
 */
export function mapRedisError(err: unknown, ep: Endpoint): RedismpError | undefined {
  if (err instanceof RedismpError) return err
  const e = err as NodeJS.ErrnoException & {command?: {name?: string}}
  const code = typeof e?.code === 'string' ? e.code : ''
  const message = firstLine(String(e?.message ?? err))
  const at = where(ep)

  if (/All sentinels are unreachable/i.test(message)) {
    return /No such master/i.test(message)
      ? new RedisConnectionError(`the sentinels at ${ep.host} know no master named "${ep.sentinelMaster}" (REDIS_SENTINEL_MASTER)`, {cause: err})
      : new RedisConnectionError(`no sentinel answered at ${ep.host}`, {cause: err})
  }
  if (AUTH_REPLY.test(message)) {
    return new RedisAuthenticationError(`authentication failed at ${at}: ${message}`, {cause: err})
  }
  if (message.startsWith('NOPERM') || /no permissions/i.test(message)) {
    return new RedisAuthenticationError(`the ACL user lacks a permission at ${at}: ${message}`, {cause: err})
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new RedisConnectionError(`connection refused by ${at}: is redis-server running there?`, {cause: err})
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new RedisConnectionError(`unknown host "${ep.host}": the name does not resolve`, {cause: err})
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RedisConnectionError(`${at} is unreachable (${code})`, {cause: err})
    case 'ECONNRESET':
    case 'EPIPE':
      return new RedisConnectionError(
        `connection to ${at} was reset${ep.tls ? ' during TLS (is the port TLS-enabled?)' : ' (a TLS-only port needs --tls)'}`,
        {cause: err},
      )
    case 'ETIMEDOUT':
      return new RedisTimeoutError(`no connection to ${at} within the connect timeout`, {cause: err})
  }
  if (TLS_CODES.test(code) || /ssl|tls|certificate/i.test(message)) {
    return new RedisConnectionError(`TLS handshake with ${at} failed: ${message}`, {cause: err})
  }
  if (/Command timed out/i.test(message)) {
    return new RedisTimeoutError(`${at} did not answer within the command timeout`, {cause: err})
  }
  if (/Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request/i.test(message)) {
    return new RedisConnectionError(`lost the connection to ${at}`, {cause: err})
  }
  if (/^(LOADING|MASTERDOWN|READONLY|CLUSTERDOWN)\b/.test(message)) {
    return new RedisConnectionError(`${at} cannot serve us now: ${message}`, {cause: err})
  }
  if (message.startsWith('WRONGTYPE')) {
    const key = (e.command as {args?: unknown[]} | undefined)?.args?.[0]
    return new CheckFailedError(`foreign data: ${key === undefined ? 'a key' : `key "${String(key)}"`} is not of the type the exporter writes (${message})`, {cause: err})
  }
  if (e?.name === 'ReplyError' || e?.command) {
    return new RedismpError(`Redis at ${at} said: ${message}`, {cause: err})
  }
  // Not from Redis at all: a bug of ours, left for the caller to report as such.
  return undefined
}
