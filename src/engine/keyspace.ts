/**
 * One pass over everything under the prefix, classifying each key. Shared by
 * health, keys and the cleanup commands so that "ours", "artifact", "foreign"
 * and "another application's" mean the same thing everywhere.
 */
import {classifyKey, type KeyVerdict, type ParsedKey, prefixPattern} from '../metrics/keys.js'
import {type Connection, isCluster} from '../redis/cluster.js'
import {evalWrite} from '../redis/lua.js'
import {DEFAULT_SCAN_COUNT, scanBatches} from '../redis/scan.js'
import {groupBySlot} from '../redis/slot.js'
import {LOOK_LUA} from './shape.js'

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
export async function* scanPrefix(redis: Connection, prefix: string, options: {rest?: string; count?: number} = {}): AsyncGenerator<ClassifiedBatch> {
  const match = prefixPattern(prefix, options.rest ?? '*')
  for await (const keys of scanBatches(redis, {match, count: options.count ?? DEFAULT_SCAN_COUNT})) {
    yield classifyBatch(keys, prefix)
  }
}

/** Keys per delete script: a script blocks the server while it runs. */
const FLUSH_CHUNK = 1000

/** ARGV[i] is the kind KEYS[i]'s name says; replies {deleted, left alone}. */
const FLUSH = `${LOOK_LUA}
local deleted, foreign = 0, 0
for i = 1, #KEYS do
  local state = look(KEYS[i], ARGV[i])
  if state == 'ours' then
    deleted = deleted + redis.call('UNLINK', KEYS[i])
  elseif state == 'foreign' then
    foreign = foreign + 1
  end
end
return {deleted, foreign}`

export interface FlushCounts {
  deleted: number
  /** At an exporter-shaped name, but not a hash of the exporter's shape: left alone. */
  notOurs: number
}

/**
 * Deletes the exporter's keys under the prefix, SCAN + UNLINK per batch, each
 * key's shape judged in the script that unlinks it; safe to re-run.
 */
export async function flushPrefix(redis: Connection, prefix: string): Promise<FlushCounts> {
  const counts: FlushCounts = {deleted: 0, notOurs: 0}
  const flush = async (part: ParsedKey[]) => {
    const [deleted, notOurs] = (await evalWrite(
      redis,
      FLUSH,
      part.map((k) => k.key),
      part.map((k) => k.kind),
    )) as [number, number]
    counts.deleted += deleted
    counts.notOurs += notOurs
  }
  for await (const batch of scanPrefix(redis, prefix)) {
    // On a cluster a script's keys must share a slot: one script per slot, sent together (pipelined per master).
    if (isCluster(redis)) await Promise.all(groupBySlot(batch.ours, (k) => k.key).map(flush))
    else for (let from = 0; from < batch.ours.length; from += FLUSH_CHUNK) await flush(batch.ours.slice(from, from + FLUSH_CHUNK))
  }
  return counts
}
