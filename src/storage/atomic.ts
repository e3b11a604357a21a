/**
 * The destructive half of prune as one server-side script per batch: each
 * decision made while planning is judged again and carried out atomically.
 *
 * A delete is allowed by a mark, not by a value read a moment before: every
 * item carries the newest write time its reason allows (a dead pid's death
 * mark, a cutoff), and the key goes only if its own time is no later. A
 * worker that writes after the judgement, however soon after, keeps the key.
 * Only hashes of the exporter's shape are touched (storage/shape.ts); a
 * series' metric and meta keys go together.
 *
 * KEYS come in pairs (target, sibling); ARGV in pairs (op, argument):
 *   pair      target is a metric: delete it and its meta if its updated_at ≤ mark
 *             (target already gone: delete the meta it left behind if its created_at ≤ mark)
 *   metric    delete the metric alone if it still has no meta and its updated_at ≤ mark
 *   meta      delete the meta alone if it still has no metric and its created_at ≤ mark
 *   ttl-metric, ttl-meta   EXPIRE target `argument` seconds if it still has no TTL
 */
import type {Connection} from '../redis/cluster.js'

import {LOOK_LUA} from './shape.js'

export type AtomicOp = 'pair' | 'metric' | 'meta' | 'ttl-metric' | 'ttl-meta'

export interface AtomicItem {
  op: AtomicOp
  target: string
  sibling: string
  /** The mark (seconds, as a number Lua reads) for deletes; the TTL in seconds for ttl-*. */
  arg: string
}

export interface AtomicResult {
  deletedKeys: number
  /** Written since the judgement (or its sibling came back): left alone. */
  kept: number
  /** No longer a hash of the exporter's shape: left alone. */
  notOurs: number
  ttlFixed: number
}

const SCRIPT = `${LOOK_LUA}
local function notLater(t, mark)
  local n = tonumber(t)
  return n ~= nil and n <= mark
end
local out = {}
for i = 1, #KEYS, 2 do
  local target, sibling = KEYS[i], KEYS[i + 1]
  local op, arg = ARGV[i], ARGV[i + 1]
  local n = (i + 1) / 2
  if op == 'ttl-metric' or op == 'ttl-meta' then
    local state = look(target, op == 'ttl-metric' and 'metric' or 'meta')
    if state == 'foreign' then
      out[n] = 'x'
    elseif state == 'ours' and redis.call('PTTL', target) == -1 then
      redis.call('EXPIRE', target, arg)
      out[n] = 't'
    else
      out[n] = '0'
    end
  else
    local mark = tonumber(arg)
    local kind, other = 'metric', 'meta'
    if op == 'meta' then kind, other = 'meta', 'metric' end
    local state, t = look(target, kind)
    local sibState, sibTime = look(sibling, other)
    if state == 'foreign' then
      out[n] = 'x'
    elseif state == 'gone' then
      if op ~= 'pair' or sibState ~= 'ours' then
        out[n] = '0'
      elseif notLater(sibTime, mark) then
        out[n] = tostring(redis.call('DEL', sibling))
      else
        out[n] = 'k'
      end
    elseif not notLater(t, mark) or (op ~= 'pair' and sibState == 'ours') then
      out[n] = 'k'
    elseif op == 'pair' and sibState == 'ours' then
      out[n] = tostring(redis.call('DEL', target, sibling))
    else
      out[n] = tostring(redis.call('DEL', target))
    end
  end
end
return table.concat(out)`

/** What happened to each item: keys deleted (0–2), `k` kept, `x` not ours, `t` TTL set. */
export type Outcome = 0 | 1 | 2 | 'k' | 'x' | 't'

export async function applyAtomically(redis: Connection, items: readonly AtomicItem[]): Promise<AtomicResult & {outcomes: Outcome[]}> {
  const result = {deletedKeys: 0, kept: 0, notOurs: 0, ttlFixed: 0, outcomes: [] as Outcome[]}
  if (items.length === 0) return result
  const keys: string[] = []
  const args: string[] = []
  for (const it of items) {
    keys.push(it.target, it.sibling)
    args.push(it.op, it.arg)
  }
  const codes = String(await evalWrite(redis, SCRIPT, keys, args))
  for (const c of codes) {
    const outcome = (c === 'k' || c === 'x' || c === 't' ? c : Number(c)) as Outcome
    result.outcomes.push(outcome)
    if (outcome === 'k') result.kept++
    else if (outcome === 'x') result.notOurs++
    else if (outcome === 't') result.ttlFixed++
    else result.deletedKeys += outcome
  }
  return result
}

/** Servers seen to reject the flag line (before Redis 7): their scripts run without it. */
const noFlagLine = new WeakSet<Connection>()

/**
 * Runs a script that writes, flagged `allow-oom`: on a full server
 * (maxmemory reached, noeviction) Redis 7 refuses SET and EXPIRE, and any
 * flagged script without this flag, yet deleting is exactly what frees it.
 * A server older than Redis 7 cannot parse the flag line: the same script
 * runs there without it (DEL still works when full; taking the lock does not).
 */
export async function evalWrite(redis: Connection, script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  if (!noFlagLine.has(redis)) {
    try {
      return await redis.eval(`#!lua flags=allow-oom\n${script}`, keys.length, ...keys, ...args)
    } catch (error) {
      if (!/Error compiling script.*near '#'/.test(String((error as Error)?.message))) throw error
      noFlagLine.add(redis)
    }
  }
  return redis.eval(script, keys.length, ...keys, ...args)
}
