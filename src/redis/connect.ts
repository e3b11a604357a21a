/**
 * The one place that creates Redis connections. It fails fast: no offline
 * queue, no reconnect loop, a bounded connect and a bounded command time, and
 * the real cause (refused, WRONGPASS, TLS, not Redis at all) instead of
 * ioredis's "Connection is closed." — a CLI must say why in one line, never hang.
 *
 * A connection is what was asked for or nothing: its database is checked
 * (ioredis only reports a failed SELECT as an event and goes on in db 0), and
 * so is every connection opened beside it (openChecked).
 */
import {readFileSync} from 'node:fs'
import type {ConnectionOptions} from 'node:tls'

import {type Command, Redis, type RedisOptions} from 'ioredis'

import {MAX_TIMER_MS} from '../config/duration.js'
import type {RedisConfig} from '../config/load.js'
import {ConfigError, RedisConnectionError, RedismpError, RedisTimeoutError} from '../errors.js'
import {type Endpoint, isLostConnection, isUnparsableReply, mapRedisError, notRedisError, where} from './errors.js'
import {clusterEndpoint, clusterOptions, type Connection, isCluster, isClusterNode, openCluster} from './cluster.js'
import {FirstBytes, probePeer} from './peer.js'

export type {Redis} from 'ioredis'

const TIMED_OUT = 'Command timed out'
/** ioredis's defaults, for connections a library user made without them. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000

/**
 * A connection redismp opened. Once a command timed out the server is taken
 * for hung and the connection is given up: every queued and later command
 * fails at once with that timeout, so a hung server costs one timeout, not one
 * more per command still to send (QUIT, a lock's release, the next read).
 */
class FailFastRedis extends Redis {
  /** Why the connection was given up. */
  failure?: Error
  /**
   * What the peer first sent, still watched after the open: with db 0 and no
   * password the open sends no command, so a peer that is not Redis may only
   * show it in the bytes that break the first real command.
   */
  peer?: {first: FirstBytes; ep: Endpoint}
  private readonly watched = new WeakSet<Command>()

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    if (this.failure) {
      command.reject(this.failure)
      return command.promise
    }
    if (!this.watched.has(command)) {
      this.watched.add(command)
      // ioredis's commandTimeout rejects through command.reject; nothing else tells of it.
      const {reject} = command
      command.reject = (error: Error) => {
        const {peer} = this
        reject(peer?.first.notResp ? notRedisError(peer.ep, peer.first.looksLike, error) : error)
        if (error?.message === TIMED_OUT) this.giveUp(error)
      }
    }
    return super.sendCommand(command, stream)
  }

  giveUp(cause: Error): void {
    if (this.failure) return
    this.failure = cause
    this.recoverFromFatalError(cause, cause, {})
    // Not a polite FIN that waits for an answer: the server is not answering.
    this.stream?.destroy()
  }
}

/**
 * Gives up a connection redismp opened (see FailFastRedis) because the server
 * stopped answering on another one (a read lane). Connections a library user
 * made are theirs to manage and are left alone.
 */
export function giveUp(redis: Redis, cause: Error): void {
  if (redis instanceof FailFastRedis) redis.giveUp(cause)
}

/** Why a connection was given up, if it was. */
export function failureOf(redis: Connection): Error | undefined {
  return redis instanceof FailFastRedis ? redis.failure : undefined
}

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

function endpoint(host: string, port: number, tls: boolean, sentinels?: Partial<{host: string; port: number}>[], master?: string): Endpoint {
  if (sentinels) return {host: sentinels.map((s) => `${s.host}:${s.port}`).join(','), port: 0, tls, sentinelMaster: master}
  return {host, port, tls}
}

export function endpointOf(c: RedisConfig): Endpoint {
  if (c.clusterNodes) return clusterEndpoint(c.clusterNodes, c.tls)
  return endpoint(c.host, c.port, c.tls, c.sentinels, c.sentinelMaster)
}

/** Where a connection goes, read from its ioredis options (a library user's connection too). */
export function endpointOfOptions(o: RedisOptions): Endpoint {
  return endpoint(o.host ?? '127.0.0.1', o.port ?? 6379, Boolean(o.tls), o.sentinels ?? undefined, o.name)
}

export function redisOptions(c: RedisConfig): RedisOptions & {replyMapping?: 'legacy'} {
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
    // Its INFO needs a permission a read-only ACL user lacks (and ioredis prints a warning for it);
    // the handshake's replies and our own SELECT show the server answers.
    enableReadyCheck: false,
    disableClientInfo: true,
    // CLIENT SETNAME: ioredis ignores it when the user may not run CLIENT.
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
 * Opens and checks a connection. Resolves once Redis has answered and the
 * requested db is selected; rejects with RedisConnectionError,
 * RedisAuthenticationError, RedisTimeoutError, or ConfigError for a db the
 * server does not have. A node of a Redis Cluster (REDIS_CLUSTER_NODES, or
 * REDIS_HOST pointing at any one node) gives a Cluster client instead.
 */
export async function connectRedis(c: RedisConfig): Promise<Connection> {
  if (c.clusterNodes) return connectCluster(c, c.clusterNodes)
  const redis = await openChecked(new FailFastRedis(redisOptions(c)))
  if (c.sentinels) return redis
  let clusterNode: boolean
  try {
    clusterNode = await isClusterNode(redis)
  } catch (error) {
    await closeRedis(redis)
    throw mapRedisError(error, endpointOf(c)) ?? error
  }
  if (!clusterNode) return redis
  // Any node will do as a seed: the client learns the others from its CLUSTER SLOTS.
  await closeRedis(redis)
  return connectCluster(c, [{host: c.host, port: c.port}])
}

function connectCluster(c: RedisConfig, seeds: {host: string; port: number}[]): Promise<Connection> {
  const o = redisOptions(c)
  return openCluster(seeds, clusterOptions(c, {username: o.username, password: o.password, tls: o.tls}, c.clusterNatMap), c.tls)
}

/** How many databases a server has, found with SELECT alone (CONFIG needs more rights): db `missing` is not one of them. */
async function countDatabases(redis: Redis, missing: number): Promise<number> {
  let [present, absent] = [0, missing]
  while (absent - present > 1) {
    const mid = Math.floor((present + absent) / 2)
    const ok = await redis.call('SELECT', String(mid)).then(
      () => true,
      () => false,
    )
    if (ok) present = mid
    else absent = mid
  }
  return present + 1
}

/** Makes sure the connection is on its db: ioredis's own SELECT only emits an event when it fails. */
async function selectDb(redis: Redis, ep: Endpoint): Promise<void> {
  const db = Number(redis.options.db ?? 0)
  if (db === 0) return // where every connection starts
  try {
    await redis.call('SELECT', String(db))
  } catch (error) {
    if (/not allowed in cluster mode/i.test(String((error as Error)?.message))) {
      throw new ConfigError(
        `db ${db} was asked for, but ${ep.host}:${ep.port} is a Redis Cluster node and a cluster has only db 0: leave REDIS_DB unset or 0`,
        {cause: error},
      )
    }
    if (!/DB index is out of range/i.test(String((error as Error)?.message))) throw mapRedisError(error, ep) ?? error
    const count = await countDatabases(redis, db).catch(() => undefined)
    throw new ConfigError(`db ${db} does not exist on ${where(ep)}${count === undefined ? '' : ` (it has ${count} databases)`}`, {cause: error})
  }
}

/**
 * Connects `redis` (made with lazyConnect) and checks it as connectRedis
 * does: the peer speaks Redis, the handshake passed, the db is the one in
 * its options. The read lanes open their connections through this too.
 */
export async function openChecked(redis: Redis): Promise<Redis> {
  const o = redis.options
  const ep = endpointOfOptions(o)
  const seen: unknown[] = []
  // Without a listener ioredis prints "Unhandled error event" stack traces; kept for the connection's life.
  redis.on('error', () => undefined)
  const record = (error: unknown) => seen.push(error)
  redis.on('error', record)
  const peer = new FirstBytes()
  const watchPeer = () => redis.stream && peer.watch(redis.stream)
  redis.once('connect', watchPeer)
  let opened = false
  // A server that accepts TCP and never answers would hold the handshake forever: bound all of it ourselves.
  const budget = Math.min(MAX_TIMER_MS, (o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS) + (o.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT_MS))
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RedisTimeoutError(
            `${ep.sentinelMaster ? where(ep) : `${ep.host}:${ep.port}`} accepted the connection but did not answer within ${budget / 1000}s`,
          ),
        ),
      budget,
    )
  })
  const plainPort = o.tls && !ep.sentinelMaster ? whenPlainRedisAnswers(ep, o) : undefined
  try {
    await Promise.race([
      (async () => {
        await redis.connect()
        await selectDb(redis, ep)
      })(),
      timeout,
      ...(plainPort ? [plainPort.verdict] : []),
    ])
    opened = true
    if (redis instanceof FailFastRedis) redis.peer = {first: peer, ep}
    return redis
  } catch (error) {
    redis.disconnect()
    redis.stream?.destroy()
    throw await diagnose(error, seen, peer, o)
  } finally {
    clearTimeout(timer)
    plainPort?.cancel()
    redis.off('error', record)
    redis.off('connect', watchPeer)
    // A connection of ours keeps watching (FailFastRedis.peer) until the peer has said enough.
    if (!opened || !(redis instanceof FailFastRedis)) peer.stop()
  }
}

/** How long a TLS handshake may go unanswered before we ask whether the port speaks plain Redis. */
const PLAIN_CHECK_AFTER_MS = 750

/**
 * A plain Redis port reads a TLS client's ClientHello as the start of an
 * inline command and waits, silently, for the rest: the handshake would
 * only end with the connect timeout. When it has not finished in
 * PLAIN_CHECK_AFTER_MS, one PING in the clear on a connection of its own
 * asks; a Redis reply means the port is not TLS, and the open fails at once.
 * Any other answer (a slow TLS server, say) changes nothing.
 */
function whenPlainRedisAnswers(ep: Endpoint, o: RedisOptions): {verdict: Promise<never>; cancel: () => void} {
  let timer: NodeJS.Timeout | undefined
  let cancelled = false
  const verdict = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const peer = await probePeer({host: ep.host, port: ep.port, timeoutMs: Math.min(o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS, 2000)})
      if (cancelled || !peer.received || peer.notResp) return
      reject(new RedisConnectionError(`${ep.host}:${ep.port} is a plain (non-TLS) Redis port: use redis:// (or drop --tls, REDIS_SSL)`))
    }, PLAIN_CHECK_AFTER_MS)
  })
  return {
    verdict,
    cancel() {
      cancelled = true
      clearTimeout(timer)
    },
  }
}

/**
 * The one cause of a failed open. What the peer sent comes first: an HTTP
 * server that answered and hung up also shows a reset, and a Redis in
 * protected mode says DENIED and hangs up at once. When the hang-up came
 * before a byte arrived (it can take the peer's answer with it), one PING on
 * a connection of its own asks again. Then our own verdicts (a missing db,
 * the budget spent), then the first error that says more than "reset" or
 * "lost the connection": the root cause more often than what connect()
 * itself rejects with.
 */
async function diagnose(error: unknown, seen: unknown[], first: FirstBytes, o: RedisOptions): Promise<unknown> {
  const ep = endpointOfOptions(o)
  const all = [...seen, error]
  let peer = first
  if (!peer.received && !ep.sentinelMaster && all.some(isHangUp)) {
    peer = await probePeer({host: ep.host, port: ep.port, tls: o.tls, timeoutMs: Math.min(o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS, 2000)})
  }
  if (peer.notResp || all.some(isUnparsableReply) || (error instanceof RedisTimeoutError && first.received)) return notRedisError(ep, peer.looksLike, error)
  if (error instanceof RedismpError) return error
  // Redis's first words, when they were a refusal, are the cause even if ioredis lost them in the hang-up.
  const said = peer.errorLine === undefined ? [] : [Object.assign(new Error(peer.errorLine), {name: 'ReplyError'})]
  const cause = [...said, ...all].find((e) => !isLostConnection(e) && !isHangUp(e) && mapRedisError(e, ep)) ?? all.find((e) => mapRedisError(e, ep)) ?? error
  return mapRedisError(cause, ep) ?? cause
}

const isHangUp = (e: unknown) => ['ECONNRESET', 'EPIPE'].includes((e as NodeJS.ErrnoException)?.code ?? '') || isLostConnection(e)

/** Where a connection really went, for reports: through Sentinels this is the master they named. */
export function describeConnection(redis: Connection, c: RedisConfig): string {
  const scheme = c.tls ? 'rediss' : 'redis'
  if (isCluster(redis)) {
    const masters = redis
      .nodes('master')
      .map((n) => `${n.options.host}:${n.options.port}`)
      .sort()
    return `${scheme}://${masters.join(',')} (Redis Cluster, ${masters.length} masters)`
  }
  const stream = redis.stream as {remoteAddress?: string; remotePort?: number} | undefined
  const host = stream?.remoteAddress ?? c.host
  const at = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${stream?.remotePort ?? c.port}/${c.db}`
  return c.sentinels ? `${at} (master "${c.sentinelMaster}" via sentinels ${endpointOf(c).host})` : at
}

/** Closes politely when the server still answers, at once otherwise. */
export async function closeRedis(redis: Connection): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // fall through to a hard disconnect
    }
  }
  // A connection that has ended (a QUIT the dead server never answered) has nothing left to close: disconnect()
  // would wait 2 s (ioredis's disconnectTimeout) for a 'close' that came already, holding the exit back.
  if (redis.status !== 'end') redis.disconnect()
}
