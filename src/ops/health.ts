/**
 * `health`: is the store usable, and is anything about it likely to make a
 * dashboard go blank? Problems make it unhealthy (non-zero exit); warnings are
 * risks that keep exit 0 unless the caller is strict.
 */
import {randomUUID} from 'node:crypto'

import {KEY_KINDS} from '../metrics/keys.js'
import {type Connection, isCluster} from '../redis/cluster.js'
import {isCommandRefused} from '../redis/errors.js'
import {pipelineReplies} from '../redis/pipeline.js'
import {masterNodes} from '../redis/scan.js'
import {clockForAges} from '../redis/time.js'
import {toolKey} from '../engine/keyspace.js'
import {readKeyFacts} from '../engine/fact-walk.js'
import type {ReadOptions} from '../engine/read-options.js'
import {assessCluster, type ClusterHealth, clusterHealth} from './cluster-health.js'
import {HealthSignals} from './stats/signals.js'
import {plural} from '../words.js'

export interface PingStats {
  /** What was timed: PING, or EXISTS of one key under the prefix for a user that may not PING (`+@read`). */
  command: 'PING' | 'EXISTS'
  samples: number
  minMs: number
  medianMs: number
  maxMs: number
}

export interface KeyspaceSummary {
  metricKeys: number
  metaKeys: number
  pids: number
  keysWithoutTtl: number
  artifacts: number
  foreignKeys: number
  /** At exporter-shaped names, but not hashes of the exporter's shape (another type, or a hash of other fields): in foreignKeys too. */
  nonHashKeys: number
  otherPrefixKeys: number
}

export interface ServerInfo {
  version?: string
  mode?: string
  role?: string
  usedMemory?: number
  maxMemory?: number
  evictionPolicy?: string
}

export interface HealthReport {
  healthy: boolean
  endpoint: string
  prefix: string
  ping: PingStats
  probe: {ok: boolean; error?: string}
  server: ServerInfo
  /** Absent when the census was skipped (a fast probe). */
  keyspace?: KeyspaceSummary
  /** On a Redis Cluster: its state, slot coverage and each master. */
  cluster?: ClusterHealth
  problems: string[]
  warnings: string[]
}

export interface HealthOptions extends ReadOptions {
  endpoint: string
  pingSamples?: number
  /** Whether the exporter is configured to write keys without a TTL (then they are expected). */
  ttlDisabled?: boolean
  /** Count the keys under the prefix (a SCAN of the whole prefix); false for a fast probe. */
  census?: boolean
}

async function pingStats(redis: Connection, samples: number, prefix: string): Promise<PingStats> {
  let command: PingStats['command'] = 'PING'
  const roundTrip = async () => {
    if (command === 'PING') {
      try {
        return await redis.ping()
      } catch (error) {
        if (!isCommandRefused(error)) throw error
        command = 'EXISTS'
      }
    }
    return redis.exists(toolKey(prefix, 'ping'))
  }
  await roundTrip() // settles which command, and is not counted
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint()
    await roundTrip()
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  times.sort((a, b) => a - b)
  const round = (x: number) => Math.round(x * 1000) / 1000
  return {command, samples, minMs: round(times[0]), medianMs: round(times[Math.floor(times.length / 2)]), maxMs: round(times.at(-1)!)}
}

/** Writes, reads back and deletes one short-lived key under the prefix. */
async function probe(redis: Connection, prefix: string): Promise<{ok: boolean; error?: string}> {
  const key = toolKey(prefix, `health-probe:${randomUUID()}`)
  const token = randomUUID()
  try {
    await redis.set(key, token, 'PX', 10_000)
    const back = await redis.get(key)
    await redis.del(key)
    return back === token ? {ok: true} : {ok: false, error: 'read back a different value than written'}
  } catch (error) {
    return {ok: false, error: String((error as Error).message).split('\n')[0]}
  }
}

function infoFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) fields[line.slice(0, i)] = line.slice(i + 1)
  }
  return fields
}

async function serverInfo(redis: Connection, warnings: string[]): Promise<ServerInfo> {
  // On a cluster, one master's (each master's own is in the cluster section): keyless commands would go to random ones.
  const [node] = masterNodes(redis)
  const replies = await pipelineReplies(node, (p) => {
    p.info('server')
    p.info('replication')
    p.info('memory')
  })
  const fields = Object.assign({}, ...replies.map((r) => (r.ok ? infoFields(String(r.value)) : {}))) as Record<string, string>
  if (replies.some((r) => !r.ok)) warnings.push('INFO is not permitted for this user: server version, role and memory are unknown')
  const num = (s?: string) => (s === undefined ? undefined : Number(s))
  return {
    version: fields.redis_version,
    mode: fields.redis_mode,
    role: fields.role,
    usedMemory: num(fields.used_memory),
    maxMemory: num(fields.maxmemory),
    evictionPolicy: fields.maxmemory_policy,
  }
}

async function summarizeKeyspace(
  redis: Connection,
  {prefix, scanCount, onProgress}: ReadOptions,
  signals: HealthSignals,
): Promise<KeyspaceSummary & {byNode?: Map<string, number>}> {
  const summary: KeyspaceSummary = {
    metricKeys: 0,
    metaKeys: 0,
    pids: 0,
    keysWithoutTtl: 0,
    artifacts: 0,
    foreignKeys: 0,
    nonHashKeys: 0,
    otherPrefixKeys: 0,
  }
  const pids = new Set<number>()
  const stats = await readKeyFacts(redis, {prefix, scanCount, onProgress, pairs: true, withTtl: true, originalKeys: true}, (k) => {
    if (k.originalKey !== undefined) signals.series(k.series, k.originalKey)
    for (const kind of KEY_KINDS) {
      const {state, pttl} = k[kind]!
      if (state === 'gone') continue // expired between SCAN and now
      if (state === 'foreign') {
        summary.nonHashKeys++
        summary.foreignKeys++
        continue
      }
      if (kind === 'metric') {
        summary.metricKeys++
        if (!k.artifact) signals.metricKey(k.series, k.type, pttl)
      } else summary.metaKeys++
      if (k.artifact) summary.artifacts++
      if (pttl === -1) summary.keysWithoutTtl++
      pids.add(k.pid)
    }
  })
  summary.otherPrefixKeys += stats.otherPrefix
  summary.foreignKeys += stats.malformed
  summary.pids = pids.size
  if (stats.laneNames.length < 2) return summary
  return {...summary, byNode: new Map(stats.laneNames.map((name, i) => [name, stats.keysByLane[i]]))}
}

function assess(report: Omit<HealthReport, 'healthy' | 'problems' | 'warnings'>, options: HealthOptions, problems: string[], warnings: string[]) {
  if (!report.probe.ok) problems.push(`cannot write under the prefix: ${report.probe.error}`)
  const {server, keyspace} = report
  if (server.role && server.role !== 'master') {
    problems.push(`connected to a ${server.role}: workers cannot write metrics here`)
  }
  if (server.maxMemory && server.evictionPolicy && server.evictionPolicy !== 'noeviction') {
    warnings.push(`maxmemory-policy ${server.evictionPolicy} can evict metric keys when memory is full (use noeviction)`)
  }
  if (server.maxMemory && server.usedMemory !== undefined && server.usedMemory / server.maxMemory > 0.9) {
    warnings.push(`memory is ${Math.round((100 * server.usedMemory) / server.maxMemory)}% of maxmemory`)
  }
  if (!keyspace) return
  if (keyspace.keysWithoutTtl > 0 && !options.ttlDisabled) {
    warnings.push(`${plural(keyspace.keysWithoutTtl, 'key has', 'keys have')} no TTL and will never expire (redismp prune --fix-ttl)`)
  }
  if (keyspace.foreignKeys > 0) {
    warnings.push(
      `${plural(keyspace.foreignKeys, 'key', 'keys')} under the prefix ${keyspace.foreignKeys === 1 ? 'is' : 'are'} not exporter data (redismp keys shows them)`,
    )
  }
  if (keyspace.metricKeys === 0) {
    warnings.push('no metric keys under the prefix: are the workers running with REDIS_ENABLED=true and this prefix and db?')
  }
}

export async function health(redis: Connection, options: HealthOptions): Promise<HealthReport> {
  const problems: string[] = []
  const warnings: string[] = []
  const ping = await pingStats(redis, options.pingSamples ?? 5, options.prefix)
  const server = await serverInfo(redis, warnings)
  const probeResult = await probe(redis, options.prefix)
  const signals = options.census === false ? undefined : new HealthSignals(await clockForAges(redis))
  let keyspace: (KeyspaceSummary & {byNode?: Map<string, number>}) | undefined
  try {
    keyspace = signals && (await summarizeKeyspace(redis, options, signals))
  } catch (error) {
    // A cluster with a master down still gets its report: the census needs every master, the rest does not.
    if (!isCluster(redis)) throw error
    problems.push(`the keyspace census failed: ${String((error as Error)?.message ?? error).split('\n')[0]}`)
  }
  const {byNode, ...summary} = keyspace ?? {}
  const cluster = isCluster(redis) ? await clusterHealth(redis, byNode) : undefined
  const partial = {
    endpoint: options.endpoint,
    prefix: options.prefix,
    ping,
    probe: probeResult,
    server,
    keyspace: keyspace && (summary as KeyspaceSummary),
    ...(cluster ? {cluster} : {}),
  }
  assess(partial, options, problems, warnings)
  if (cluster) assessCluster(cluster, problems, warnings)
  // stats' verdicts (redismp stats shows the whole picture): counters about to expire, high-cardinality labels; only from a whole census.
  if (signals && keyspace) warnings.push(...signals.warnings())
  return {healthy: problems.length === 0, ...partial, problems, warnings}
}
