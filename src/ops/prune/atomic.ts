/**
 * The destructive half of prune as one server-side script per batch: each
 * decision made while planning is judged again and carried out atomically.
 *
 * A delete is allowed by a mark, not by a value read a moment before: every
 * item carries the newest write time its reason allows (a dead pid's death
 * mark, a cutoff), and the key goes only if its own time is no later. A
 * worker that writes after the judgement, however soon after, keeps the key.
 * Only hashes of the exporter's shape are touched (engine/shape.ts); a
 * series' metric and meta keys go together.
 *
 * KEYS come in pairs (target, sibling); ARGV in pairs (op, argument):
 *   pair      target is a metric: delete it and its meta if its updated_at ≤ mark
 *             (target already gone: delete the meta it left behind if its created_at ≤ mark)
 *   metric    delete the metric alone if it still has no meta and its updated_at ≤ mark
 *   meta      delete the meta alone if it still has no metric and its created_at ≤ mark
 *   ttl-metric, ttl-meta   EXPIRE target `argument` seconds if it still has no TTL
 */
import {type Connection, isCluster} from '../../redis/cluster.js'
import {evalWrite} from '../../redis/lua.js'
import {pipelineReplies} from '../../redis/pipeline.js'
import {groupBySlot} from '../../redis/slot.js'
import {LOOK_LUA} from '../../engine/shape.js'

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
    -- A sibling named as the target itself: none to judge here (on a cluster it lies in another slot, judged by a script of its own).
    local sibState, sibTime = 'gone', nil
    if sibling ~= target then sibState, sibTime = look(sibling, other) end
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
  const outcomes = isCluster(redis) ? await applyPerSlot(redis, items) : await runScript(redis, items)
  for (const outcome of outcomes) {
    result.outcomes.push(outcome)
    if (outcome === 'k') result.kept++
    else if (outcome === 'x') result.notOurs++
    else if (outcome === 't') result.ttlFixed++
    else result.deletedKeys += outcome
  }
  return result
}

async function runScript(redis: Connection, items: readonly AtomicItem[]): Promise<Outcome[]> {
  const keys: string[] = []
  const args: string[] = []
  for (const it of items) {
    keys.push(it.target, it.sibling)
    args.push(it.op, it.arg)
  }
  const codes = String(await evalWrite(redis, SCRIPT, keys, args))
  return [...codes].map((c) => (c === 'k' || c === 'x' || c === 't' ? c : Number(c)) as Outcome)
}

/**
 * A pair's meta, held (on a cluster): its created_at is taken out and
 * returned (`=` and the value) if it is ours and written no later than the
 * mark; else `0` gone, `x` not ours, `k` written since. The
 * exporter's every write sets created_at again with HSETNX, so its return
 * tells the release that a write came in between.
 */
const HOLD_META = `${LOOK_LUA}
local out = {}
for i = 1, #KEYS do
  local state, t = look(KEYS[i], 'meta')
  local n = tonumber(t)
  if state == 'ours' and n ~= nil and n <= tonumber(ARGV[i]) then
    redis.call('HDEL', KEYS[i], 'created_at')
    out[i] = '=' .. t
  elseif state == 'gone' then
    out[i] = '0'
  elseif state == 'foreign' then
    out[i] = 'x'
  else
    out[i] = 'k'
  end
end
return out`

/**
 * Releases held metas: ARGV pairs (verdict, created_at). `delete`: the metric
 * went, so the meta goes too unless a write gave it a created_at again (then
 * it stays, `k`); `keep`: the metric stayed, the meta gets its created_at back.
 */
const RELEASE_META = `local out = {}
for i = 1, #KEYS do
  local verdict, createdAt = ARGV[2 * i - 1], ARGV[2 * i]
  if verdict == 'delete' and redis.call('HEXISTS', KEYS[i], 'created_at') == 0 then
    out[i] = tostring(redis.call('DEL', KEYS[i]))
  else
    if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('HSETNX', KEYS[i], 'created_at', createdAt) end
    out[i] = 'k'
  end
end
return table.concat(out)`

/**
 * On a cluster a series' metric and meta lie in different slots, which no
 * script spans: each key is judged by a script on its own master, one script
 * per slot (sent together, pipelined per master). A pair takes three steps:
 * its meta is held (HOLD_META), its metric judged and deleted alone by its
 * own mark, then the meta released (RELEASE_META): deleted where the metric
 * went and no write touched the meta since the hold, else kept whole. A
 * worker that writes at any point keeps both keys, as on one server, since
 * the exporter acknowledges the metric's write before it sends the meta's
 * (a write whose meta part lands before the hold and metric part after the
 * delete is the one order that would leave a metric without meta until its
 * next write). Interrupted between the steps, a meta stays behind without its
 * metric, or without created_at: an orphan that `prune --orphans` removes.
 * The orphan ops judge their key alone: the sibling's absence was read when planning.
 */
async function applyPerSlot(redis: Connection, items: readonly AtomicItem[]): Promise<Outcome[]> {
  const metaOf = (it: AtomicItem) => (it.op === 'pair' ? it.sibling : it.target)
  const holds = items.flatMap((it, i) => (it.op === 'pair' || it.op === 'meta' ? [i] : []))
  const held = await perSlotEval(
    redis,
    HOLD_META,
    holds.map((i) => ({key: metaOf(items[i]), args: [items[i].arg]})),
    (r) => r as string[],
  )
  // Metrics (and TTL fixes) judged alone; an orphan meta waits for its release.
  const rest = items.flatMap((it, i) => (it.op === 'meta' ? [] : [i]))
  const judged = await perSlot(
    redis,
    rest.map((i) => ({...items[i], sibling: items[i].target})),
  )
  const outcomes: Outcome[] = items.map((it) => (it.op === 'meta' ? 'k' : 0))
  rest.forEach((i, j) => (outcomes[i] = judged[j]))
  // An orphan meta goes only while its metric is still missing (the exporter writes the metric first).
  const isHeld = (j: number) => held[j].startsWith('=')
  const metas = holds.filter((i, j) => items[i].op === 'meta' && isHeld(j))
  const present = await pipelineReplies(redis, (p) => void metas.forEach((i) => p.exists(items[i].sibling)))
  const metricThere = new Set(metas.filter((_, j) => !(present[j].ok && present[j].value === 0)))
  const release = holds.flatMap((i, j) => (isHeld(j) ? [{i, createdAt: held[j].slice(1)}] : []))
  const goes = (i: number) => (items[i].op === 'meta' ? !metricThere.has(i) : typeof outcomes[i] === 'number')
  const released = await perSlotEval(
    redis,
    RELEASE_META,
    release.map(({i, createdAt}) => ({key: metaOf(items[i]), args: [goes(i) ? 'delete' : 'keep', createdAt]})),
    (r) => [...String(r)],
  )
  release.forEach(({i}, j) => {
    if (released[j] === 'k') return
    outcomes[i] = items[i].op === 'meta' ? (Number(released[j]) as Outcome) : (((outcomes[i] as number) + Number(released[j])) as Outcome)
  })
  // An orphan meta that was not held: gone, not ours, or written after its mark.
  holds.forEach((i, j) => {
    if (items[i].op === 'meta' && !isHeld(j)) outcomes[i] = (held[j] === '0' ? 0 : held[j]) as Outcome
  })
  return outcomes
}

/** A script over single-key calls, one per slot group; `split` turns one script's reply into per-key results, in call order. */
async function perSlotEval(
  redis: Connection,
  script: string,
  calls: readonly {key: string; args: string[]}[],
  split: (reply: unknown) => string[],
): Promise<string[]> {
  const results: string[] = new Array(calls.length)
  const indexed = calls.map((call, i) => ({call, i}))
  await Promise.all(
    groupBySlot(indexed, (x) => x.call.key).map(async (group) => {
      const reply = split(
        await evalWrite(
          redis,
          script,
          group.map((x) => x.call.key),
          group.flatMap((x) => x.call.args),
        ),
      )
      group.forEach((x, j) => (results[x.i] = reply[j]))
    }),
  )
  return results
}

/** One script per slot group; outcomes in item order. */
async function perSlot(redis: Connection, items: readonly AtomicItem[]): Promise<Outcome[]> {
  const indexed = items.map((item, i) => ({item, i}))
  const outcomes: Outcome[] = new Array(items.length)
  await Promise.all(
    groupBySlot(indexed, (x) => x.item.target).map(async (group) => {
      const codes = await runScript(
        redis,
        group.map((x) => x.item),
      )
      group.forEach((x, j) => (outcomes[x.i] = codes[j]))
    }),
  )
  return outcomes
}
