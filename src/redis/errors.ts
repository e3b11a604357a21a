/**
 * Turns what ioredis and Node report into one of our Redis errors with a
 * line a person can act on. ioredis's own `connect()` only says "Connection is
 * closed.", so the cause is taken from the 'error' events when there are some.
 */
import {CheckFailedError, ConfigError, RedisAuthenticationError, RedisConnectionError, RedismpError, RedisRefusedError, RedisTimeoutError} from '../errors.js'

export interface Endpoint {
  host: string
  port: number
  tls: boolean
  /** Set when the master is found through Sentinels (then host lists them). */
  sentinelMaster?: string
  /** Set for a Redis Cluster (then host lists its seed nodes). */
  cluster?: boolean
}

const AUTH_REPLY = /^(WRONGPASS)\b|invalid password|invalid username-password/i
/** What to do about a certificate the handshake refused: name the flags that fix it. */
function tlsHint(code: string, message: string): string {
  if (/HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID/.test(code) || /altnames|hostname/i.test(message)) {
    return " (name the certificate's host with --tls-servername, REDIS_SSL_SERVERNAME)"
  }
  if (
    /SELF_SIGNED|UNABLE_TO_(GET_ISSUER|VERIFY)|CERT_UNTRUSTED|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/.test(code) ||
    /self[- ]signed|unable to (verify|get local issuer)/i.test(message)
  ) {
    return ' (trust its CA with --tls-ca FILE, REDIS_SSL_CA; or, for a test server only, skip verification with --tls-insecure)'
  }
  return ''
}

const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|ERR_OSSL_|HOSTNAME_MISMATCH)/
/** What ioredis's reply decoder throws on bytes that are not RESP. */
const NOT_RESP = /^Unknown RESP type|^Protocol error/
/** ioredis's ways of saying the connection is gone, which never say why. */
const LOST = /Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request/i

const messageOf = (err: unknown) => firstLine(String((err as Error)?.message ?? err))

/** The peer sent bytes that no Redis reply starts with. */
export const isUnparsableReply = (err: unknown) => NOT_RESP.test(messageOf(err))

/** The ACL user may not run the command, or the server has it disabled or renamed. */
export const isCommandRefused = (err: unknown) => /^NOPERM|no permissions|unknown command/i.test(messageOf(err))

/** The connection went away, with no word on why. */
export const isLostConnection = (err: unknown) => LOST.test(messageOf(err))

export function where(ep: Endpoint): string {
  if (ep.sentinelMaster) return `master "${ep.sentinelMaster}" via sentinels ${ep.host}`
  if (ep.cluster) return `the cluster at ${ep.tls ? 'rediss' : 'redis'}://${ep.host}`
  return `${ep.tls ? 'rediss' : 'redis'}://${hostPort(ep)}`
}

function hostPort(ep: Endpoint): string {
  return `${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim()
}

/** The peer answered, but not as Redis does: `looksLike` names what it seems to be, when known. */
export function notRedisError(ep: Endpoint, looksLike?: string, cause?: unknown): RedisConnectionError {
  const at = ep.sentinelMaster ? where(ep) : hostPort(ep)
  return new RedisConnectionError(`${at} answered, but not in the Redis protocol${looksLike ? ` (looks like ${looksLike})` : ''}: wrong port?`, {cause})
}

/** The command a reply error was for, as Redis names it: from "unknown command 'scan'", else from ioredis. */
function commandOf(e: {command?: {name?: string}}, message: string): string {
  const named = /unknown command [`']([^`']*)[`']/i.exec(message)?.[1] ?? e.command?.name
  return named ? named.toUpperCase() : 'a command'
}

/**
 * Maps an error seen while talking to Redis to our error classes; ours pass
 * through unchanged; anything that did not come from Redis gives undefined.
 */
export function mapRedisError(err: unknown, ep: Endpoint): RedismpError | undefined {
  if (err instanceof RedismpError) return err
  // A MULTI that Redis discarded: the reason is the refusal of a command queued in it (OOM, READONLY, …).
  const queued = (err as {previousErrors?: unknown[]})?.previousErrors?.[0]
  if (queued && messageOf(err).startsWith('EXECABORT')) return mapRedisError(queued, ep)
  const e = err as NodeJS.ErrnoException & {command?: {name?: string; args?: unknown[]}}
  const code = typeof e?.code === 'string' ? e.code : ''
  const message = messageOf(err)
  const at = where(ep)

  if (/All sentinels are unreachable/i.test(message)) {
    return /No such master/i.test(message)
      ? new RedisConnectionError(`the sentinels at ${ep.host} know no master named "${ep.sentinelMaster}" (REDIS_SENTINEL_MASTER)`, {cause: err})
      : new RedisConnectionError(`no sentinel answered at ${ep.host}`, {cause: err})
  }
  if (message.startsWith('DENIED') && /protected mode/i.test(message)) {
    return new RedisConnectionError(
      `${at} refused the connection: it runs in protected mode (no password set), so it only accepts clients on its own loopback interface; give it a password (then set REDIS_PASSWORD) or connect from its host`,
      {cause: err},
    )
  }
  if (message.startsWith('NOAUTH')) {
    return new RedisAuthenticationError(`authentication failed at ${at}: this server needs a password: set REDIS_PASSWORD`, {cause: err})
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
      return new RedisConnectionError(`connection to ${at} was reset${ep.tls ? ' during TLS (is the port TLS-enabled?)' : ' (a TLS-only port needs --tls)'}`, {
        cause: err,
      })
    case 'ETIMEDOUT':
      return new RedisTimeoutError(
        `no connection to ${at} within the connect timeout${ep.tls ? ': a plain (non-TLS) Redis port waits silently for a TLS client, so if the port is not TLS use redis:// (or drop --tls, REDIS_SSL)' : ''}`,
        {cause: err},
      )
  }
  if (isUnparsableReply(err)) return notRedisError(ep, undefined, err)
  if (TLS_CODES.test(code) || /ssl|tls|certificate/i.test(message)) {
    return new RedisConnectionError(`TLS handshake with ${at} failed: ${message}${tlsHint(code, message)}`, {cause: err})
  }
  if (/Command timed out/i.test(message)) {
    return new RedisTimeoutError(`${at} did not answer within the command timeout`, {cause: err})
  }
  if (isLostConnection(err)) {
    return new RedisConnectionError(`lost the connection to ${at}`, {cause: err})
  }
  if (/^(MOVED|ASK) \d+ /.test(message)) {
    // A key's slot went to another master while we read (resharding or failover): what was read may be incomplete.
    return new RedisConnectionError(
      `the cluster moved slot ${message.split(' ')[1]} to another master while redismp worked on it (resharding or failover); run again`,
      {cause: err},
    )
  }
  if (/^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/.test(message)) {
    return new RedisConnectionError(`${at} cannot serve us now: ${message}`, {cause: err})
  }
  if (message.startsWith('READONLY')) {
    return new RedisRefusedError(`${at} is a read-only replica and refused ${commandOf(e, message)}: connect to its master to write`, {cause: err})
  }
  if (message.startsWith('OOM')) {
    return new RedisRefusedError(`${at} is out of memory and refused ${commandOf(e, message)} (used memory is above maxmemory and nothing can be evicted)`, {
      cause: err,
    })
  }
  if (/unknown command|Unknown Redis command called from script/i.test(message)) {
    // Redis quotes the command's first arguments after its name: leave them out (they can be key names, or worse).
    return new RedisRefusedError(`${at} refused ${commandOf(e, message)}: the command is disabled or renamed on this server (rename-command)`, {cause: err})
  }
  if (/DB index is out of range/i.test(message)) {
    const db = e.command?.name === 'select' ? e.command.args?.[0] : undefined
    return new ConfigError(`db ${db ?? '(as requested)'} does not exist on ${at}`, {cause: err})
  }
  if (message.startsWith('WRONGTYPE')) {
    const key = e.command?.args?.[0]
    return new CheckFailedError(`foreign data: ${key === undefined ? 'a key' : `key "${String(key)}"`} is not of the type the exporter writes (${message})`, {
      cause: err,
    })
  }
  if (e?.name === 'ReplyError' || e?.command) {
    return new RedismpError(`Redis at ${at} said: ${message}`, {cause: err})
  }
  // Not from Redis at all: a bug of ours, left for the caller to report as such.
  return undefined
}
