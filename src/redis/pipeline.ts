/**
 * Pipelines in batches: one round trip per batch, never one per key, and
 * never an unbounded reply. Per-command errors (WRONGTYPE on a foreign key)
 * come back beside the results instead of failing the batch.
 */
import type {ChainableCommander, Redis} from 'ioredis'

export type Reply<T = unknown> = {ok: true; value: T} | {ok: false; error: Error}

export const DEFAULT_BATCH_SIZE = 1000

/** Runs the commands `build` queues in one pipeline and returns one Reply per command. */
export async function pipelineReplies(redis: Redis, build: (p: ChainableCommander) => void): Promise<Reply[]> {
  const pipeline = redis.pipeline()
  build(pipeline)
  if (pipeline.length === 0) return []
  const results = (await pipeline.exec()) ?? []
  return results.map(([error, value]) => (error ? {ok: false, error} : {ok: true, value}))
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
export async function batchSet(redis: Redis, writes: Iterable<HashWrite>, batchSize = DEFAULT_BATCH_SIZE): Promise<number> {
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
