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
import type {KeyKind} from '../metrics/keys.js'

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
