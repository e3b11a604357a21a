/**
 * One pass over everything under the prefix, classifying each key. Shared by
 * health, keys and the cleanup commands so that "ours", "artifact", "foreign"
 * and "another application's" mean the same thing everywhere.
 */
import type {Redis} from 'ioredis'

import {type KeyVerdict, type ParsedKey, classifyKey, prefixPattern} from '../metrics/keys.js'
import {DEFAULT_SCAN_COUNT, scanBatches} from '../redis/scan.js'

export interface ClassifiedBatch {
  ours: ParsedKey[]
  /** Under our prefix but not of the schema. */
  foreign: {key: string; detail: string}[]
  /** Exporter-shaped keys under a longer prefix (`gunicorn:shadow:…`): not ours. */
  otherPrefix: string[]
}

/**
 * redismp's own short-lived keys (the prune lock, the health probe) live under
 * `{prefix}:redismp:` so that they obey the prefix rule; they are neither
 * exporter data nor foreign, and every listing leaves them out.
 */
export const toolKey = (prefix: string, name: string) => `${prefix}:redismp:${name}`

/** One key SCAN found under the prefix, judged as everywhere else; undefined for redismp's own keys. */
export function classifyFound(key: string, prefix: string): KeyVerdict | undefined {
  return key.startsWith(toolKey(prefix, '')) ? undefined : classifyKey(key, prefix)
}

export function classifyBatch(keys: readonly string[], prefix: string): ClassifiedBatch {
  const out: ClassifiedBatch = {ours: [], foreign: [], otherPrefix: []}
  for (const key of keys) {
    const v = classifyFound(key, prefix)
    if (v === undefined) continue
    if (v.ours) out.ours.push(v.parsed)
    else if (v.reason === 'other-prefix') out.otherPrefix.push(key)
    else out.foreign.push({key, detail: v.detail})
  }
  return out
}

/** Batches of classified keys under `prefix:` (MATCH `rest` after the escaped prefix). */
export async function* scanPrefix(
  redis: Redis,
  prefix: string,
  options: {rest?: string; count?: number} = {},
): AsyncGenerator<ClassifiedBatch> {
  const match = prefixPattern(prefix, options.rest ?? '*')
  for await (const keys of scanBatches(redis, {match, count: options.count ?? DEFAULT_SCAN_COUNT})) {
    yield classifyBatch(keys, prefix)
  }
}

/** Deletes the exporter's keys under the prefix, SCAN + UNLINK per batch; safe to re-run. */
export async function flushPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0
  for await (const batch of scanPrefix(redis, prefix)) {
    if (batch.ours.length > 0) deleted += await redis.unlink(...batch.ours.map((k) => k.key))
  }
  return deleted
}
