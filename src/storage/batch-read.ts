/**
 * Reads the fields of a SCAN batch with a few commands instead of one per key.
 * A pipeline of one HMGET per key is already one round trip, but its
 * per-command cost on the client (a Command object, a timeout timer, a promise
 * each) dominated a 1M-key dump; a read-only Lua call per 5000 keys replies
 * with one length-prefixed string instead. Where scripts are not allowed (ACL
 * without @scripting, a Redis before 7, a Cluster's cross-slot batch) it falls
 * back to the pipeline, for good.
 */
import type {Redis} from 'ioredis'

import {PUT_FIELD, evalFieldsInChunks, scriptOrPipeline} from '../redis/lua.js'
import {pipelineReplies} from '../redis/pipeline.js'

export const WRONGTYPE = '\u0000WRONGTYPE'

/** Per metric key: value, timestamp, updated_at (null when missing), or WRONGTYPE. */
export type MetricFields = [string | null, string | null, string | null] | typeof WRONGTYPE

export interface BatchReply {
  fields: MetricFields[]
  /** PTTL per metric key, when asked for. */
  pttl: number[]
  /** original_key per meta key (null when missing or not a hash). */
  metas: (string | null)[]
}

/**
 * value, timestamp, updated_at (and PTTL) per metric key, then original_key
 * per meta key, length-prefixed (redis/lua.ts). redis.call, not pcall: a
 * foreign non-hash key fails the script with WRONGTYPE and that one batch is
 * read by the pipeline, which reports the key.
 */
const SCRIPT = `#!lua flags=no-writes
${PUT_FIELD}
local call = redis.call
local n = tonumber(ARGV[1])
local withTtl = ARGV[2] == '1'
for i = 1, n do
  local r = call('HMGET', KEYS[i], 'value', 'timestamp', 'updated_at')
  put(r[1]); put(r[2]); put(r[3])
  if withTtl then put(tostring(call('PTTL', KEYS[i]))) end
end
for i = n + 1, #KEYS do
  put(call('HGET', KEYS[i], 'original_key'))
end
return table.concat(out)`

const SCRIPT_CHUNK = 5000

export class BatchReader {
  /** Turns false, for the rest of the walk, when the server refuses scripts. */
  private readonly mode = {scripts: true}

  constructor(private readonly redis: Redis) {}

  read(metricKeys: readonly string[], metaKeys: readonly string[], withTtl = false): Promise<BatchReply> {
    if (metricKeys.length === 0 && metaKeys.length === 0) return Promise.resolve({fields: [], pttl: [], metas: []})
    const viaPipeline = () => this.viaPipeline(metricKeys, metaKeys, withTtl)
    return scriptOrPipeline(
      this.mode,
      () =>
        this.viaScripts(metricKeys, metaKeys, withTtl).catch((error: unknown) => {
          // A foreign key in this batch: read just this batch the slow way, which names it.
          if (/WRONGTYPE/.test(String((error as Error)?.message))) return viaPipeline()
          throw error
        }),
      viaPipeline,
    )
  }

  private async viaScripts(metricKeys: readonly string[], metaKeys: readonly string[], withTtl: boolean): Promise<BatchReply> {
    const per = withTtl ? 4 : 3
    const [flat, metas] = await Promise.all([
      evalFieldsInChunks(this.redis, SCRIPT, metricKeys, SCRIPT_CHUNK, (part) => ({keys: [...part], args: [part.length, withTtl ? '1' : '0']})),
      evalFieldsInChunks(this.redis, SCRIPT, metaKeys, SCRIPT_CHUNK, (part) => ({keys: [...part], args: [0, '0']})),
    ])
    const fields: MetricFields[] = []
    const pttl: number[] = []
    for (let i = 0; i < metricKeys.length; i++) {
      const at = i * per
      fields.push([flat[at], flat[at + 1], flat[at + 2]])
      if (withTtl) pttl.push(Number(flat[at + 3]))
    }
    return {fields, pttl, metas}
  }

  private async viaPipeline(metricKeys: readonly string[], metaKeys: readonly string[], withTtl: boolean): Promise<BatchReply> {
    const replies = await pipelineReplies(this.redis, (p) => {
      for (const k of metricKeys) {
        p.hmget(k, 'value', 'timestamp', 'updated_at')
        if (withTtl) p.pttl(k)
      }
      for (const k of metaKeys) p.hget(k, 'original_key')
    })
    const per = withTtl ? 2 : 1
    const fields: MetricFields[] = []
    const pttl: number[] = []
    metricKeys.forEach((_, i) => {
      const r = replies[i * per]
      if (!r.ok) {
        if (!/WRONGTYPE/.test(r.error.message)) throw r.error
        fields.push(WRONGTYPE)
      } else fields.push(r.value as [string | null, string | null, string | null])
      if (withTtl) {
        const t = replies[i * per + 1]
        pttl.push(t.ok ? Number(t.value) : -2)
      }
    })
    const metas = replies.slice(metricKeys.length * per).map((r) => (r.ok && typeof r.value === 'string' ? r.value : null))
    return {fields, pttl, metas}
  }
}
