/**
 * SCAN, never KEYS: a cursor walk with MATCH and COUNT that yields one batch
 * of keys per reply, so a caller can pipeline each batch before asking for the
 * next and memory stays bounded by the batch. On a Redis Cluster it scans
 * every master (a keyless SCAN on the Cluster client reaches one random master).
 */
import type {Cluster, Redis} from 'ioredis'

import {clusterMasters, isCluster} from './cluster.js'

export interface ScanOptions {
  /** A MATCH pattern; escape literal parts with escapeGlob. */
  match: string
  /** The COUNT hint per SCAN call. */
  count?: number
  /** Only keys of this Redis type (SCAN ... TYPE, Redis 6+). */
  type?: string
}

export const DEFAULT_SCAN_COUNT = 1000

/** The nodes that own keys: the server itself, or every master of a cluster (in address order). */
export function masterNodes(redis: Redis | Cluster): Redis[] {
  return isCluster(redis) ? clusterMasters(redis) : [redis]
}

/**
 * Yields batches of keys. SCAN may return a key more than once (while the
 * server rehashes, or on a cluster while a slot migrates, which can also miss
 * one); callers that count or sum must tolerate that. On a cluster every
 * master is scanned at once, each batch yielded as it arrives.
 */
export async function* scanBatches(redis: Redis | Cluster, options: ScanOptions): AsyncGenerator<string[]> {
  const nodes = masterNodes(redis)
  if (nodes.length === 1) {
    yield* scanNode(nodes[0], options)
    return
  }
  const scans = nodes.map((node) => scanNode(node, options))
  const next = (i: number) => scans[i].next().then((r) => ({i, r}))
  const pending = new Map(scans.map((_, i) => [i, next(i)]))
  try {
    while (pending.size > 0) {
      const {i, r} = await Promise.race(pending.values())
      if (r.done) {
        pending.delete(i)
        continue
      }
      pending.set(i, next(i))
      yield r.value
    }
  } finally {
    // A caller that stops early: the other masters' SCANs read ahead must not surface as unhandled rejections.
    for (const p of pending.values()) p.catch(() => undefined)
    await Promise.all(scans.map((g) => g.return(undefined).catch(() => undefined)))
  }
}

/** One node's SCAN, the next call already on its way while the caller works on this batch. */
async function* scanNode(node: Redis, options: ScanOptions): AsyncGenerator<string[]> {
  const count = String(options.count ?? DEFAULT_SCAN_COUNT)
  const scan = (cursor: string) => {
    const args: (string | number)[] = [cursor, 'MATCH', options.match, 'COUNT', count]
    if (options.type) args.push('TYPE', options.type)
    const reply = node.call('SCAN', ...args) as Promise<[string, string[]]>
    // A caller that stops early (an error while it handled the last batch) never awaits the
    // SCAN read ahead: its failure must not surface as an unhandled rejection meanwhile.
    reply.catch(() => undefined)
    return reply
  }
  let pending = scan('0')
  for (;;) {
    const [next, keys] = await pending
    if (next !== '0') pending = scan(next)
    if (keys.length > 0) yield keys
    if (next === '0') break
  }
}

/** Every key matching, one at a time: for small listings and library users. */
export async function* scanKeys(redis: Redis | Cluster, options: ScanOptions): AsyncGenerator<string> {
  for await (const batch of scanBatches(redis, options)) yield* batch
}
