/**
 * The destructive half of prune as one server-side script per batch: each
 * decision made while planning is re-checked and carried out atomically, so
 * a key a worker rewrote after the plan was made survives, and a series'
 * metric and meta keys go together or not at all.
 *
 * KEYS come in pairs (target, sibling); ARGV in pairs (op, expected):
 *   pair   delete target and sibling if target's updated_at is still `expected`
 *          (target already gone: delete the sibling it left behind)
 *   metric delete target if its sibling meta is still missing and updated_at is still `expected`
 *   meta   delete target if its sibling metric is still missing
 *   ttl    EXPIRE target `expected` seconds if it still has no TTL
 */
import type {Redis} from 'ioredis'

export type AtomicOp = 'pair' | 'metric' | 'meta' | 'ttl'

export interface AtomicItem {
  op: AtomicOp
  target: string
  sibling: string
  expected: string
}

export interface AtomicResult {
  deletedKeys: number
  /** Rewritten (or re-created) since the plan: left alone. */
  kept: number
  /** Not a hash any more, or another per-key error: left alone, reported. */
  failed: number
  ttlFixed: number
}

const SCRIPT = `
local out = {}
for i = 1, #KEYS, 2 do
  local target, sibling = KEYS[i], KEYS[i + 1]
  local op, expected = ARGV[i], ARGV[i + 1]
  local n = (i + 1) / 2
  if op == 'ttl' then
    if redis.call('PTTL', target) == -1 then
      redis.call('EXPIRE', target, expected)
      out[n] = 't'
    else
      out[n] = '0'
    end
  elseif op == 'meta' then
    if redis.call('EXISTS', sibling) == 0 then
      out[n] = tostring(redis.call('DEL', target))
    else
      out[n] = 'k'
    end
  else
    local u = redis.pcall('HGET', target, 'updated_at')
    if type(u) == 'table' then
      out[n] = 'f'
    elseif op == 'metric' and redis.call('EXISTS', sibling) == 1 then
      out[n] = 'k'
    elseif u == expected then
      if op == 'pair' then
        out[n] = tostring(redis.call('DEL', target, sibling))
      else
        out[n] = tostring(redis.call('DEL', target))
      end
    elseif u == false and op == 'pair' then
      out[n] = tostring(redis.call('DEL', sibling))
    else
      out[n] = 'k'
    end
  end
end
return table.concat(out)`

/** What happened to each item: keys deleted (0–2), `k` kept, `f` failed, `t` TTL set. */
export type Outcome = 0 | 1 | 2 | 'k' | 'f' | 't'

export async function applyAtomically(redis: Redis, items: readonly AtomicItem[]): Promise<AtomicResult & {outcomes: Outcome[]}> {
  const result = {deletedKeys: 0, kept: 0, failed: 0, ttlFixed: 0, outcomes: [] as Outcome[]}
  if (items.length === 0) return result
  const keys: string[] = []
  const args: string[] = []
  for (const it of items) {
    keys.push(it.target, it.sibling)
    args.push(it.op, it.expected)
  }
  const codes = String(await redis.eval(SCRIPT, keys.length, ...keys, ...args))
  for (const c of codes) {
    const outcome = (c === 'k' || c === 'f' || c === 't' ? c : Number(c)) as Outcome
    result.outcomes.push(outcome)
    if (outcome === 'k') result.kept++
    else if (outcome === 'f') result.failed++
    else if (outcome === 't') result.ttlFixed++
    else result.deletedKeys += outcome
  }
  return result
}
