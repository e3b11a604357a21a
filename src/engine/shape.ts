/**
 * A name is not enough: only hashes of the shape the exporter writes are
 * ours. A string, list or set at a schema-shaped name, or a hash with other
 * fields, belongs to someone else, and nothing redismp deletes or gives a TTL
 * may touch it. The check runs on the server inside the script that deletes,
 * so a key replaced between plan and delete is judged as it is then.
 *
 * The shapes, as the exporter's own writes in test/golden/wire.json show them:
 *   metric  a hash with `value`, `timestamp` and `updated_at` (one HSET on every write)
 *   meta    a hash with `original_key` (written with every value) or with
 *           `multiprocess_mode` (ensure_metadata's, before a series is first written)
 * The third field is the key's write time: `updated_at`, or a meta's `created_at`.
 */
import type {KeyKind, ParsedKey} from '../metrics/keys.js'
import type {Connection} from '../redis/cluster.js'
import {evalFieldsInChunks, PUT_FIELD, scriptOrPipeline} from '../redis/lua.js'
import {pipelineReplies, type Reply} from '../redis/pipeline.js'

export const SHAPE_FIELDS: Record<KeyKind, readonly [string, string, string]> = {
  metric: ['value', 'timestamp', 'updated_at'],
  meta: ['original_key', 'multiprocess_mode', 'created_at'],
}

/** What a key at a schema-shaped name holds now. */
export type ShapeState = 'ours' | 'foreign' | 'gone'

/**
 * Lua: `look(key, kind)` returns `'ours', time` (time false when missing),
 * `'foreign'` or `'gone'`. One HMGET per key; pcall, because a key of another
 * type answers HMGET with an error.
 */
export const LOOK_LUA = `local SHAPE = {metric = {${SHAPE_FIELDS.metric.map((f) => `'${f}'`).join(', ')}}, meta = {${SHAPE_FIELDS.meta.map((f) => `'${f}'`).join(', ')}}}
local function look(key, kind)
  local f = SHAPE[kind]
  local v = redis.pcall('HMGET', key, f[1], f[2], f[3])
  if v.err == nil then
    if kind == 'metric' and v[1] and v[2] and v[3] then return 'ours', v[3] end
    if kind == 'meta' and (v[1] or v[2]) then return 'ours', v[3] end
  end
  if redis.call('EXISTS', key) == 1 then return 'foreign' end
  return 'gone'
end`

/** The same judgement from replies to `HMGET key ...SHAPE_FIELDS[kind]` and `EXISTS key`, where scripts are refused. */
export function shapeFromReplies(kind: KeyKind, fields: Reply, exists: Reply | undefined): {state: ShapeState; time?: string} {
  if (fields.ok && Array.isArray(fields.value)) {
    const [a, b, time] = fields.value as (string | null)[]
    const ours = kind === 'metric' ? a !== null && b !== null && time !== null : a !== null || b !== null
    if (ours) return {state: 'ours', time: time ?? undefined}
  }
  return {state: exists?.ok && exists.value === 1 ? 'foreign' : 'gone'}
}

/** One field per key: its state. */
const SHAPES = `#!lua flags=no-writes
${PUT_FIELD}
${LOOK_LUA}
for i = 1, #KEYS do put((look(KEYS[i], ARGV[i]))) end
return table.concat(out)`

/** What each key holds, as its name's kind expects: read-only scripts of 5000 keys, or one pipeline where scripts are refused. */
export async function readShapes(redis: Connection, keys: readonly ParsedKey[], mode: {scripts: boolean} = {scripts: true}): Promise<ShapeState[]> {
  return scriptOrPipeline(
    mode,
    async () =>
      (await evalFieldsInChunks(redis, SHAPES, keys, 5000, (part) => ({keys: part.map((k) => k.key), args: part.map((k) => k.kind)}))) as ShapeState[],
    async () => {
      const replies = await pipelineReplies(redis, (p) => {
        for (const k of keys) p.hmget(k.key, ...SHAPE_FIELDS[k.kind]).exists(k.key)
      })
      return keys.map((k, i) => shapeFromReplies(k.kind, replies[2 * i], replies[2 * i + 1]).state)
    },
  )
}
