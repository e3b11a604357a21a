/**
 * `prune`: cleanup for cron that never makes counter totals go backwards
 * unless told to. By default it does what prometheus_client's
 * mark_process_dead does for dead workers — their live* gauges go (with the
 * exporter's bare-`gauge` twins), their counters, histograms, summaries and
 * other gauges stay. Everything else is opt-in.
 *
 * First liveness is judged (which pids are dead, and as of which write);
 * then per SCAN batch a plan (read-only scripts), and one atomic script that
 * judges each decision again on the server, against the same marks, and
 * touches only hashes of the exporter's shape. Interrupted at any point, the
 * store is consistent and a re-run finishes the job.
 */
import {isLiveMode, type ParsedKey, siblingKey} from '../../metrics/keys.js'
import {parsePyFloat} from '../../metrics/pyfloat.js'
import type {Connection} from '../../redis/cluster.js'
import {evalFieldsInChunks, PUT_FIELD, scriptOrPipeline} from '../../redis/lua.js'
import {pipelineReplies} from '../../redis/pipeline.js'
import {redisTime} from '../../redis/time.js'
import {applyAtomically, type AtomicItem, type AtomicOp} from './atomic.js'
import {scanPrefix} from '../../engine/keyspace.js'
import {Lease} from './lock.js'
import {readKeyFacts} from '../../engine/reader.js'
import {LOOK_LUA, SHAPE_FIELDS, shapeFromReplies, type ShapeState} from '../../engine/shape.js'
import {pidRunsHere} from '../local.js'
import type {ReadOptions} from '../../engine/read-options.js'
import {plural} from '../../words.js'

export type PruneReason = 'dead-live-gauge' | 'dead-artifact' | 'artifact' | 'orphan' | 'older-than' | 'fix-ttl'

export interface PruneOptions extends ReadOptions {
  /** Workers named dead. */
  pids?: number[]
  /** Workers whose pid does not run on this host are dead. */
  local?: boolean
  /** Workers with no write for this long are dead (ms). */
  staleMs?: number
  orphans?: boolean
  /** Orphans younger than this are left alone: the exporter writes metric and meta in two steps (ms). */
  orphanGraceMs?: number
  artifacts?: boolean
  /** Every series not written for this long goes, counters included (ms). */
  olderThanMs?: number
  /** TTL to give keys that have none; undefined: leave TTLs alone. */
  fixTtlSeconds?: number
  dryRun?: boolean
  sampleSize?: number
  /** With dryRun: list every planned key in `plan` (memory grows with the plan: for --dry-run --json only). */
  listPlan?: boolean
  /** Called once liveness is judged, before any key is planned: a seam for race tests. */
  afterJudgement?: (deadPids: number[]) => Promise<void>
  /** Called between a batch's plan and its execution with the keys planned: a seam for race tests. */
  beforeApply?: (targets: string[]) => Promise<void>
}

export interface PlannedKey {
  key: string
  reason: PruneReason
}

export interface PruneResult {
  dryRun: boolean
  deadPids: number[]
  /** Keys planned per reason (a series' metric and meta count as two). */
  planned: Record<PruneReason, number>
  /** Keys deleted (TTLs set, for fix-ttl) per reason; zero in a dry run. */
  done: Record<PruneReason, number>
  deletedKeys: number
  ttlFixed: number
  /** Written by a worker after prune judged them: kept. */
  keptRewritten: number
  /** Keys at exporter-shaped names that are not hashes of the exporter's shape (a string, a list, other fields): never touched. */
  notOursKept: number
  /** The first planned keys, with why (`sampleSize` of them). */
  sample: PlannedKey[]
  /** Every planned key, with why: only with `listPlan` in a dry run. */
  plan?: PlannedKey[]
  /** Pids named with `pids` that have no key under the prefix (a typo, or pruned already). */
  pidsWithoutKeys: number[]
}

export const DEFAULT_ORPHAN_GRACE_MS = 60_000

/** Keys per SCAN call: each batch is planned with a few scripts and applied with one. */
const PRUNE_SCAN_COUNT = 5000

/**
 * Which workers are dead, and each one's death mark: only keys written no
 * later than the mark are deleted for that pid, and the script that deletes
 * checks it. The mark is the newest write the liveness walk saw of the pid
 * (its own writes, on its own clock), never later than what made it dead —
 * the --stale cutoff, or for --pid and --local the moment the judgement
 * began. So any write after the judgement keeps its key, whatever the
 * writer's clock; nan/inf times are no writes (they would make a pid fresh forever).
 */
async function judgeLiveness(redis: Connection, o: PruneOptions, now: number): Promise<Map<number, number>> {
  const marks = new Map<number, number>()
  const named = new Set(o.pids ?? [])
  if (named.size === 0 && !o.local && o.staleMs === undefined) return marks
  const newest = new Map<number, number | undefined>()
  await readKeyFacts(redis, {prefix: o.prefix, pid: !o.local && o.staleMs === undefined && named.size === 1 ? [...named][0] : undefined}, (k) => {
    if (k.pttl === -2) return // gone since SCAN
    const t = k.updatedAt !== undefined && Number.isFinite(k.updatedAt) ? k.updatedAt : undefined
    const seen = newest.get(k.pid)
    newest.set(k.pid, t === undefined ? seen : seen === undefined ? t : Math.max(seen, t))
  })
  const staleCutoff = o.staleMs === undefined ? undefined : now - o.staleMs / 1000
  for (const pid of new Set([...named, ...newest.keys()])) {
    const w = newest.get(pid)
    const because: number[] = []
    if (named.has(pid) || (o.local && newest.has(pid) && !pidRunsHere(pid))) because.push(now)
    if (staleCutoff !== undefined && newest.has(pid) && (w === undefined || w < staleCutoff)) because.push(staleCutoff)
    if (because.length === 0) continue
    const latest = Math.max(...because)
    marks.set(pid, w === undefined ? latest : Math.min(w, latest))
  }
  return marks
}

interface PlanFacts {
  state: ShapeState
  /** updated_at of a metric, created_at of a meta, when ours. */
  time?: string
  /** The sibling is a hash of the exporter's shape. */
  siblingOurs: boolean
  pttl?: number
}

/**
 * Per key: its state (engine/shape.ts), its write time, whether its sibling
 * is ours, and (for --fix-ttl) its PTTL — length-prefixed from one read-only
 * script per 5000 keys (redis/lua.ts).
 */
const FACTS = `#!lua flags=no-writes
${PUT_FIELD}
${LOOK_LUA}
local withTtl = ARGV[1] == '1'
for i = 1, #KEYS, 2 do
  local kind = ARGV[(i + 1) / 2 + 1]
  local state, t = look(KEYS[i], kind)
  put(state)
  put(t)
  put((look(KEYS[i + 1], kind == 'metric' and 'meta' or 'metric')) == 'ours' and '1' or '0')
  if withTtl then put(tostring(redis.call('PTTL', KEYS[i]))) end
end
return table.concat(out)`

const FACTS_CHUNK = 5000
const APPLY_CHUNK = 1000

const siblingOf = (k: ParsedKey) => siblingKey(k, k.kind === 'metric' ? 'meta' : 'metric')

/** What one batch needs to know: a few scripts, or one pipeline where scripts are refused. */
async function facts(redis: Connection, keys: ParsedKey[], o: PruneOptions, mode: {scripts: boolean}): Promise<PlanFacts[]> {
  const withTtl = o.fixTtlSeconds !== undefined
  return scriptOrPipeline(
    mode,
    async () => {
      const per = withTtl ? 4 : 3
      const flat = await evalFieldsInChunks(redis, FACTS, keys, FACTS_CHUNK, (part) => ({
        keys: part.flatMap((k) => [k.key, siblingOf(k)]),
        args: [withTtl ? '1' : '0', ...part.map((k) => k.kind)],
      }))
      return keys.map((_, i) => ({
        state: flat[i * per] as ShapeState,
        time: flat[i * per + 1] ?? undefined,
        siblingOurs: flat[i * per + 2] === '1',
        pttl: withTtl ? Number(flat[i * per + 3]) : undefined,
      }))
    },
    async () => {
      const per = withTtl ? 4 : 3
      const replies = await pipelineReplies(redis, (p) => {
        for (const k of keys) {
          p.hmget(k.key, ...SHAPE_FIELDS[k.kind]).exists(k.key)
          p.hmget(siblingOf(k), ...SHAPE_FIELDS[k.kind === 'metric' ? 'meta' : 'metric'])
          if (withTtl) p.pttl(k.key)
        }
      })
      return keys.map((k, i) => {
        const {state, time} = shapeFromReplies(k.kind, replies[i * per], replies[i * per + 1])
        const sibling = shapeFromReplies(k.kind === 'metric' ? 'meta' : 'metric', replies[i * per + 2], undefined)
        const pttl = replies[i * per + 3]
        return {state, time, siblingOurs: sibling.state === 'ours', pttl: pttl?.ok ? Number(pttl.value) : undefined}
      })
    },
  )
}

/** A mark as Lua's tonumber reads it back: the same double. */
const markArg = String

export async function prune(redis: Connection, o: PruneOptions): Promise<PruneResult> {
  const now = await redisTime(redis)
  const marks = await judgeLiveness(redis, o, now)
  const graceCutoff = now - (o.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS) / 1000
  const olderCutoff = o.olderThanMs === undefined ? undefined : now - o.olderThanMs / 1000
  const planned: Record<PruneReason, number> = {'dead-live-gauge': 0, 'dead-artifact': 0, artifact: 0, orphan: 0, 'older-than': 0, 'fix-ttl': 0}
  const done: Record<PruneReason, number> = {'dead-live-gauge': 0, 'dead-artifact': 0, artifact: 0, orphan: 0, 'older-than': 0, 'fix-ttl': 0}
  const deadPids = [...marks.keys()].sort((a, b) => a - b)
  const result: PruneResult = {
    dryRun: Boolean(o.dryRun),
    deadPids,
    planned,
    done,
    deletedKeys: 0,
    ttlFixed: 0,
    keptRewritten: 0,
    notOursKept: 0,
    sample: [],
    pidsWithoutKeys: [],
  }
  const named = new Set(o.pids ?? [])
  const namedSeen = new Set<number>()
  if (o.dryRun && o.listPlan) result.plan = []
  const sampleSize = o.sampleSize ?? 10
  await o.afterJudgement?.(deadPids)

  let scanned = 0
  const readMode = {scripts: true}
  for await (const batch of scanPrefix(redis, o.prefix, {count: o.scanCount ?? PRUNE_SCAN_COUNT})) {
    scanned += batch.ours.length + batch.foreign.length + batch.otherPrefix.length
    o.onProgress?.(scanned)
    if (named.size > 0) for (const k of batch.ours) if (named.has(k.pid)) namedSeen.add(k.pid)
    if (batch.ours.length === 0) continue
    const known = await facts(redis, batch.ours, o, readMode)
    const items: AtomicItem[] = []
    const reasons: PruneReason[] = []
    const note = (key: string, reason: PruneReason) => {
      if (result.sample.length < sampleSize) result.sample.push({key, reason})
      result.plan?.push({key, reason})
    }
    const plan = (op: AtomicOp, k: ParsedKey, arg: string, reason: PruneReason, withSibling: boolean) => {
      items.push({op, target: k.key, sibling: siblingOf(k), arg})
      reasons.push(reason)
      planned[reason] += withSibling ? 2 : 1
      note(k.key, reason)
      if (withSibling) note(siblingOf(k), reason)
    }
    batch.ours.forEach((k, i) => {
      const f = known[i]
      if (f.state === 'foreign') result.notOursKept++
      if (f.state !== 'ours') return
      const why = decide(k, f)
      if (why && k.kind === 'metric') {
        // The series goes: metric and meta together. An orphan has no meta to take along.
        plan(why.reason === 'orphan' ? 'metric' : 'pair', k, markArg(why.mark), why.reason, f.siblingOurs)
      } else if (why && !f.siblingOurs) {
        // A meta whose metric is gone; one with its metric goes with that metric.
        plan('meta', k, markArg(why.mark), why.reason, false)
      } else if (o.fixTtlSeconds !== undefined && f.pttl === -1) {
        plan(k.kind === 'metric' ? 'ttl-metric' : 'ttl-meta', k, String(o.fixTtlSeconds), 'fix-ttl', false)
      }
    })
    if (o.dryRun || items.length === 0) continue
    await o.beforeApply?.(items.map((it) => it.target))
    // A write script blocks the server while it runs: at most APPLY_CHUNK keys at a time.
    for (let from = 0; from < items.length; from += APPLY_CHUNK) {
      const applied = await applyAtomically(redis, items.slice(from, from + APPLY_CHUNK))
      result.deletedKeys += applied.deletedKeys
      result.ttlFixed += applied.ttlFixed
      result.keptRewritten += applied.kept
      result.notOursKept += applied.notOurs
      applied.outcomes.forEach((outcome, i) => {
        if (typeof outcome === 'number') done[reasons[from + i]] += outcome
        else if (outcome === 't') done['fix-ttl']++
      })
    }
  }
  result.pidsWithoutKeys = [...named].filter((pid) => !namedSeen.has(pid)).sort((a, b) => a - b)
  return result

  /**
   * Why a key goes, and the newest write time that reason allows: the script
   * that deletes compares the key's time with that mark again. A meta is
   * judged by its own time only when it has no metric to go with.
   */
  function decide(k: ParsedKey, f: PlanFacts): {reason: PruneReason; mark: number} | undefined {
    const written = parsePyFloat(f.time ?? '')
    // No readable time: nothing proves the key old.
    if (written === undefined || Number.isNaN(written)) return undefined
    const alone = k.kind === 'metric' || !f.siblingOurs
    if (olderCutoff !== undefined && alone && written <= olderCutoff) return {reason: 'older-than', mark: olderCutoff}
    const death = marks.get(k.pid)
    if (death !== undefined && written <= death) {
      if (k.artifact) return {reason: 'dead-artifact', mark: death}
      if (k.mode && isLiveMode(k.mode)) return {reason: 'dead-live-gauge', mark: death}
    }
    // An artifact is never data; one written after the run began waits for the next run.
    if (o.artifacts && k.artifact && written <= now) return {reason: 'artifact', mark: now}
    if (o.orphans && !f.siblingOurs && written <= graceCutoff) return {reason: 'orphan', mark: graceCutoff}
    return undefined
  }
}

/**
 * The prune lock: one prune at a time per prefix. A lock left by a prune of
 * this host that no longer runs, or one without an expiry, is taken over
 * (`lease.tookOver` says so).
 */
export function takePruneLock(redis: Connection, prefix: string): Promise<Lease> {
  return Lease.acquire(redis, prefix, 'prune-lock', {pidGone: (pid) => !pidRunsHere(pid)})
}

/** Where a prune ran: `redis://host:port/db` and the prefix. */
export interface PruneTarget {
  target: string
  prefix: string
}

/** One line for cron mail, naming where it ran when told. */
export function summarizePrune(r: PruneResult, where?: PruneTarget): string {
  const verb = r.dryRun ? 'would delete' : 'deleted'
  const reasons = (Object.entries(r.dryRun ? r.planned : r.done) as [PruneReason, number][]).filter(([reason, n]) => n > 0 && reason !== 'fix-ttl')
  const deleted = r.dryRun ? reasons.reduce((sum, [, n]) => sum + n, 0) : r.deletedKeys
  const ttl = r.dryRun ? r.planned['fix-ttl'] : r.ttlFixed
  const parts: string[] = []
  if (r.deadPids.length > 0) parts.push(`dead pids: ${r.deadPids.slice(0, 8).join(' ')}${r.deadPids.length > 8 ? ' …' : ''}`)
  parts.push(`${verb} ${plural(deleted, 'key')}${reasons.length > 0 ? ` (${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')})` : ''}`)
  if (ttl) parts.push(`${r.dryRun ? 'would set' : 'set'} a TTL on ${plural(ttl, 'key')}`)
  if (r.keptRewritten) parts.push(`kept ${r.keptRewritten} rewritten since planned`)
  if (r.notOursKept) parts.push(`left alone ${plural(r.notOursKept, 'key that is', 'keys that are')} not exporter hashes`)
  if (deleted === 0 && !ttl) parts.push('nothing to prune')
  return `prune${where ? ` on ${where.target}, prefix "${where.prefix}"` : ''}: ${parts.join('; ')}`
}

/** Every key a plan counts, whether or not the sample shows it. */
export const plannedKeys = (r: PruneResult) => Object.values(r.planned).reduce((a, b) => a + b, 0)
