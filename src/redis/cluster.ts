/**
 * Redis Cluster: found from any one node (`INFO cluster` says
 * `cluster_enabled:1`) or named by seed nodes (REDIS_CLUSTER_NODES), then
 * spoken to with ioredis's Cluster client, failing as fast as a single
 * connection does. Keyless commands on a Cluster client go to one random
 * master, so whatever must see every key (SCAN, FLUSHDB, DBSIZE, INFO) walks
 * `masters()` itself: a plain connection per master.
 */
import {Cluster, type ClusterOptions, type NatMap, Redis} from 'ioredis'

import type {RedisConfig} from '../config/load.js'
import {RedisConnectionError, RedisTimeoutError} from '../errors.js'
import {type Endpoint, isCommandRefused, mapRedisError} from './errors.js'

export type {Cluster} from 'ioredis'

/** A connection redismp works with: one server (maybe found through Sentinels) or a cluster. */
export type Connection = Redis | Cluster

export const isCluster = (c: Connection): c is Cluster => (c as Cluster).isCluster === true

/** Where a cluster is, for messages: its seed nodes. */
export function clusterEndpoint(seeds: readonly {host: string; port: number}[], tls: boolean): Endpoint {
  return {host: seeds.map((s) => `${s.host}:${s.port}`).join(','), port: 0, tls, cluster: true}
}

/** `cluster_enabled:1` in INFO cluster. A user who may not run INFO is taken to be on a single server. */
export async function isClusterNode(redis: Redis): Promise<boolean> {
  try {
    const info = String(await redis.call('INFO', 'cluster'))
    return /^cluster_enabled:1\s*$/m.test(info)
  } catch (error) {
    if (isCommandRefused(error)) return false
    throw error
  }
}

/**
 * The Cluster client's options: every node gets the single connection's
 * user, password, TLS and timeouts; nothing retries or queues (a CLI fails
 * fast and says why); redirections are followed as ioredis does.
 */
export function clusterOptions(
  c: RedisConfig,
  node: {
    username?: string
    password?: string
    tls?: Redis['options']['tls']
  },
  natMap?: NatMap,
): ClusterOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Its CLUSTER INFO check would refuse a cluster with a slot uncovered: health must still report on it.
    enableReadyCheck: false,
    clusterRetryStrategy: () => null,
    slotsRefreshTimeout: c.connectTimeoutMs,
    // No background refresh: a walk reads the slot map itself, before and after.
    slotsRefreshInterval: 0,
    maxRedirections: 8,
    // Commands of one tick to one master go out together: pipelineReplies relies on it.
    enableAutoPipelining: true,
    natMap,
    redisOptions: {
      username: node.username,
      password: node.password,
      tls: node.tls,
      connectTimeout: c.connectTimeoutMs,
      commandTimeout: c.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      reconnectOnError: () => false,
      enableReadyCheck: false,
      disableClientInfo: true,
      connectionName: 'redismp',
    },
  }
}

/**
 * Opens a Cluster client on `seeds` and waits for its slot map. Rejects with
 * the cause a single connection would give (refused, WRONGPASS, TLS), taken
 * from the nodes' own errors, since the client itself only says it failed to
 * refresh slots.
 */
export async function openCluster(seeds: {host: string; port: number}[], options: ClusterOptions, tls: boolean): Promise<Cluster> {
  const cluster = new Cluster(seeds, options)
  // Without a listener ioredis prints "Unhandled error event" stack traces; kept for the client's life.
  cluster.on('error', () => undefined)
  // The nodes' own errors say why (refused, WRONGPASS, TLS); the client's only that slots could not be refreshed.
  const seen: unknown[] = []
  const record = (error: unknown) => seen.push(error)
  cluster.on('node error', record)
  const ep = clusterEndpoint(seeds, tls)
  try {
    await cluster.connect()
    return cluster
  } catch (error) {
    cluster.disconnect()
    const all = [...seen, (error as {lastNodeError?: unknown})?.lastNodeError, error].filter(Boolean)
    const vague = /Connection is closed|refresh slots|None of startup nodes/i
    const cause = all.find((e) => mapRedisError(e, ep) && !vague.test(String((e as Error)?.message))) ?? error
    const mapped = mapRedisError(cause, ep)
    if (mapped) throw mapped
    if (/timeout/i.test(String((cause as Error)?.message)))
      throw new RedisTimeoutError(`no node of the cluster at ${ep.host} answered CLUSTER SLOTS in time`, {cause})
    throw new RedisConnectionError(`no node of the cluster at ${ep.host} could be reached: ${String((cause as Error)?.message ?? cause)}`, {cause})
  } finally {
    cluster.off('node error', record)
  }
}

/** The masters as ioredis knows them, ordered by address so that every walk visits them alike. */
export function clusterMasters(cluster: Cluster): Redis[] {
  return cluster.nodes('master').sort((a, b) => nodeName(a).localeCompare(nodeName(b)))
}

/** `host:port` of one node, as the client reaches it. */
export const nodeName = (node: Redis) => `${node.options.host}:${node.options.port}`
