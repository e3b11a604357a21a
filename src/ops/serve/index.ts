/**
 * `serve`: the scrape endpoint. A walk thread (walk-thread.ts) reads the
 * store on the refresher's schedule, the HTTP server answers every scrape
 * from the newest complete walk plus the self-metrics, and, when asked, the
 * store is pruned on a schedule under prune's own lock. Returns a handle;
 * printing and signals are the command's business.
 */
import {createServer, type Server} from 'node:http'

import type {RedisConfig} from '../../config/load.js'
import {formatListen, type ListenAddress} from '../../config/listen.js'
import {ConfigError, RefusedError} from '../../errors.js'
import {endpointOf} from '../../redis/connect.js'
import {mapRedisError} from '../../redis/errors.js'
import type {DumpOptions} from '../dump.js'
import {prune, type PruneOptions, summarizePrune, takePruneLock} from '../prune/prune.js'
import {handler} from './http.js'
import {RedisLink} from './link.js'
import type {WalkOutcome} from './outcome.js'
import {Refresher} from './refresher.js'
import {ServeMetrics} from './self-metrics.js'
import {Walker} from './walker.js'

export {acceptsGzip, EXPOSITION_CONTENT_TYPE} from './http.js'

export interface ServeOptions {
  config: RedisConfig
  /** What to dump (as `dump`'s flags say), prefix included. */
  selection: DumpOptions
  listen: ListenAddress
  /** Between the end of a walk and the start of the next; 0: a walk per scrape. */
  refreshMs: number
  prune?: {everyMs: number; options: PruneOptions}
  /** A line worth a warning on stderr: a failed walk, a prune that could not run. */
  warn: (line: string) => void
  /** A line of information on stderr: listening, a walk that works again, what a prune did. */
  info: (line: string) => void
}

export interface ServeHandle {
  /** Where it listens, as `HOST:PORT`. */
  address: string
  metrics: ServeMetrics
  /** Stops accepting, finishes the responses in flight, closes Redis; done within `graceMs`. */
  shutdown(graceMs?: number): Promise<void>
}

/** How long /readyz waits for a PING: under Kubernetes' default probe timeout of one second. */
const READY_BUDGET_MS = 800
export const DEFAULT_GRACE_MS = 4500

export async function serve(o: ServeOptions): Promise<ServeHandle> {
  const metrics = new ServeMetrics(o.warn)
  const link = new RedisLink(o.config, metrics.redis)
  const walker = new Walker(o.config, o.selection)
  let lastFailure: string | undefined
  const refresher = new Refresher(walker, o.refreshMs, (outcome: WalkOutcome) => {
    metrics.walked(outcome)
    if (outcome.ok) {
      if (lastFailure !== undefined) o.info(`walk succeeded again (${outcome.stats.scannedKeys} keys)`)
      lastFailure = undefined
    } else {
      lastFailure = outcome.error.message
      o.warn(`walk failed: ${outcome.error.message}`)
    }
  })
  let closing = false

  const server = createServer(
    handler({
      outcome: () => refresher.current(),
      selfMetrics: (families) => metrics.text(families),
      redisProblem: () => redisProblem(link, metrics, o.config),
      closing: () => closing,
    }),
  )
  // A scraper that stops reading must not hold the process: its socket times out.
  server.requestTimeout = 60_000
  await listen(server, o.listen)
  refresher.start()

  let pruning: Promise<void> | undefined
  let pruneTimer: NodeJS.Timeout | undefined
  if (o.prune) {
    const {everyMs, options} = o.prune
    const cycle = () => {
      pruning = pruneOnce(link, metrics, options, o).finally(() => {
        pruning = undefined
        if (!closing) pruneTimer = setTimeout(cycle, everyMs)
      })
    }
    cycle()
  }

  let done: Promise<void> | undefined
  const shutdown = (graceMs = DEFAULT_GRACE_MS) =>
    (done ??= (async () => {
      closing = true
      const deadline = Date.now() + graceMs
      const left = () => Math.max(0, deadline - Date.now())
      refresher.stop()
      clearTimeout(pruneTimer)
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Scrapes waiting on a walk get it if it ends in time; then the walk thread goes, and with it any walk left.
      await within(refresher.inProgress(), left() - 1000)
      await walker.close()
      await within(pruning, left() - 500)
      await within(closed, left() - 300)
      server.closeAllConnections()
      await within(link.close(), left())
    })())

  return {address: formatListen(addressOf(server, o.listen)), metrics, shutdown}
}

async function within(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!p) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))])
  clearTimeout(timer)
}

function listen(server: Server, at: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why: Record<string, string> = {
        EADDRINUSE: 'the address is already in use',
        EACCES: 'permission denied (ports below 1024 need privileges)',
        EADDRNOTAVAIL: 'no interface of this host has that address',
        ENOTFOUND: 'unknown host',
      }
      reject(new ConfigError(`cannot listen on ${formatListen(at)}: ${why[error.code ?? ''] ?? error.message}`))
    })
    server.listen({port: at.port, host: at.host}, () => resolve())
  })
}

function addressOf(server: Server, asked: ListenAddress): ListenAddress {
  const a = server.address()
  return a && typeof a === 'object' ? {host: asked.host, port: a.port} : asked
}

async function redisProblem(link: RedisLink, metrics: ServeMetrics, config: RedisConfig): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer to PING within ${READY_BUDGET_MS} ms`), READY_BUDGET_MS)))
  const ping = (async () => {
    try {
      const redis = await link.get()
      await metrics.redis.time('ping', () => redis.ping())
      return undefined
    } catch (error) {
      link.drop()
      return (mapRedisError(error, endpointOf(config)) ?? (error as Error)).message
    }
  })()
  try {
    return await Promise.race([ping, late])
  } finally {
    clearTimeout(timer)
  }
}

async function pruneOnce(link: RedisLink, metrics: ServeMetrics, options: PruneOptions, o: ServeOptions): Promise<void> {
  try {
    const redis = await link.get()
    // Prune's own lock: of several replicas of the sidecar, one prunes at a time; the others skip this round.
    const lease = await takePruneLock(redis, options.prefix)
    if (lease.tookOver) o.warn(lease.tookOver)
    try {
      const result = await metrics.redis.time('prune', () => prune(redis, options))
      metrics.pruned('done', result.deletedKeys)
      o.info(summarizePrune(result))
    } finally {
      await lease.release().catch(() => undefined)
    }
  } catch (error) {
    if (error instanceof RefusedError) {
      metrics.pruned('locked')
      o.info(`prune skipped: ${error.message}`)
      return
    }
    metrics.pruned('failure')
    link.drop()
    o.warn(`prune failed: ${(mapRedisError(error, endpointOf(o.config)) ?? (error as Error)).message}`)
  }
}
