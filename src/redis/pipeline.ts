/**
 * Pipelines in batches: one round trip per batch, never one per key, and
 * never an unbounded reply. Per-command errors (WRONGTYPE on a foreign key)
 * come back beside the results instead of failing the batch.
 */
import type {ChainableCommander} from 'ioredis'

import {type Cluster, type Connection, isCluster} from './cluster.js'

export type Reply<T = unknown> = {ok: true; value: T} | {ok: false; error: Error}

export const DEFAULT_BATCH_SIZE = 1000

/** Runs the commands `build` queues in one pipeline and returns one Reply per command. */
export async function pipelineReplies(redis: Connection, build: (p: ChainableCommander) => void): Promise<Reply[]> {
  if (isCluster(redis)) return clusterReplies(redis, build)
  const pipeline = redis.pipeline()
  build(pipeline)
  if (pipeline.length === 0) return []
  const results = (await pipeline.exec()) ?? []
  return results.map(([error, value]) => (error ? {ok: false, error} : {ok: true, value}))
}

/**
 * On a cluster a pipeline may only hold keys of one master: each command goes
 * on its own, to its key's master, all sent before any reply is awaited, and
 * the client's auto-pipelining (clusterOptions) writes those of one master
 * together. No MULTI: its keys would span slots.
 */
async function clusterReplies(cluster: Cluster, build: (p: ChainableCommander) => void): Promise<Reply[]> {
  const calls: [string, unknown[]][] = []
  const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
    get:
      (_, name) =>
      (...args: unknown[]) => {
        calls.push([String(name), args])
        return recorder
      },
  })
  build(recorder)
  const send = cluster as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  return Promise.all(
    calls.map(([name, args]) =>
      send[name](...args).then(
        (value): Reply => ({ok: true, value}),
        (error: Error): Reply => ({ok: false, error}),
      ),
    ),
  )
}

/** UNLINKs keys in one command, or on a cluster one per key (they lie in many slots), sent together. Returns how many existed. */
export async function unlinkKeys(redis: Connection, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0
  if (!isCluster(redis)) return redis.unlink(...keys)
  return (await Promise.all(keys.map((k) => redis.unlink(k)))).reduce((a, b) => a + b, 0)
}

/** Splits items into batches of at most `size`. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

export interface HashWrite {
  key: string
  /** Field values in the order they are written (Redis keeps small hashes in insertion order). */
  fields: Record<string, string>
  /** Seconds; no EXPIRE when undefined. */
  ttlSeconds?: number
}

/**
 * Writes many hashes with one pipeline (HSET + EXPIRE) per batch.
 * Returns how many were written; throws on the first per-command error.
 */
export async function batchSet(redis: Connection, writes: Iterable<HashWrite>, batchSize = DEFAULT_BATCH_SIZE): Promise<number> {
  let written = 0
  let batch: HashWrite[] = []
  const flush = async () => {
    const replies = await pipelineReplies(redis, (p) => {
      for (const w of batch) {
        p.hset(w.key, w.fields)
        if (w.ttlSeconds !== undefined) p.expire(w.key, w.ttlSeconds)
      }
    })
    const failed = replies.find((r) => !r.ok)
    if (failed && !failed.ok) throw failed.error
    written += batch.length
    batch = []
  }
  for (const w of writes) {
    batch.push(w)
    if (batch.length >= batchSize) await flush()
  }
  if (batch.length > 0) await flush()
  return written
}
