/**
 * `prune`: cleanup for cron that never makes counter totals go backwards
 * unless told to. By default it does what prometheus_client's
 * mark_process_dead does for dead workers — their live* gauges go (with the
 * exporter's bare-`gauge` twins), their counters, histograms, summaries and
 * other gauges stay. Everything else is opt-in.
 *
 * One walk reads every key with its sibling (engine/fact-walk.ts) and plans
 * (plan.ts): most decisions as pairs are seen, those of workers that may be
 * dead once the walk has shown each pid's newest write. Unless orphans or
 * TTLs are asked for, a meta is read only when its pair goes (a plan rarely
 * takes much of a store, and every meta read costs Redis as much again as
 * the metrics): a meta that is not an exporter hash then stays and is
 * counted, as the script that deletes would judge it. Then the plan is
 * carried out a chunk at a time by one atomic script each (atomic.ts), which
 * judges each decision again on the server, against the same marks, and
 * touches only hashes of the exporter's shape. Interrupted at any point, the
 * store is consistent and a re-run finishes the job.
 */
import {readKeyFacts} from '../../engine/fact-walk.js'
import type {ReadOptions} from '../../engine/read-options.js'
import type {PruneKinds} from '../../cli/prune-flags.js'
import type {Connection} from '../../redis/cluster.js'
import {redisTime} from '../../redis/time.js'
import {plural} from '../../words.js'
import {pidRunsHere} from '../local.js'
import {applyAtomically} from './atomic.js'
import {Lease} from './lock.js'
import {keysPerReason, type PlannedKey, PrunePlan, type PruneReason} from './plan.js'

export type {PlannedKey, PruneReason} from './plan.js'

export interface PruneOptions extends ReadOptions, PruneKinds {
  /** Workers named dead. */
  pids?: number[]
  dryRun?: boolean
  sampleSize?: number
  /** With dryRun: list every planned key in `plan` (memory grows with the plan: for --dry-run --json only). */
  listPlan?: boolean
  /** Called once liveness is judged (after the walk), before any key is deleted: a seam for race tests. */
  afterJudgement?: (deadPids: number[]) => Promise<void>
  /** Called before each chunk of the plan is carried out, with its keys: a seam for race tests. */
  beforeApply?: (targets: string[]) => Promise<void>
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

/** Items per delete script: a write script blocks the server while it runs. */
const APPLY_CHUNK = 1000

export async function prune(redis: Connection, o: PruneOptions): Promise<PruneResult> {
  const now = await redisTime(redis)
  const named = new Set(o.pids ?? [])
  const plan = new PrunePlan({
    now,
    pids: named,
    local: o.local ?? false,
    staleCutoff: o.staleMs === undefined ? undefined : now - o.staleMs / 1000,
    olderCutoff: o.olderThanMs === undefined ? undefined : now - o.olderThanMs / 1000,
    graceCutoff: o.orphans ? now - (o.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS) / 1000 : undefined,
    artifacts: o.artifacts ?? false,
    fixTtlSeconds: o.fixTtlSeconds,
  })
  // One named pid and nothing else asked: only its keys need reading.
  const onlyNamed =
    named.size === 1 && !o.local && o.staleMs === undefined && !o.orphans && !o.artifacts && o.olderThanMs === undefined && o.fixTtlSeconds === undefined
  let deadPids: number[] = []
  const {names} = await readKeyFacts(
    redis,
    {
      prefix: o.prefix,
      scanCount: o.scanCount,
      onProgress: o.onProgress,
      pairs: true,
      metasOnDemand: !plan.needsEveryMeta,
      withTtl: o.fixTtlSeconds !== undefined,
      pid: onlyNamed ? [...named][0] : undefined,
    },
    (k) => plan.see(k),
    async (readMetas) => {
      deadPids = plan.judge()
      await o.afterJudgement?.(deadPids)
      plan.decideWaiting()
      await plan.readSiblings(readMetas)
    },
  )

  const done = keysPerReason()
  const result: PruneResult = {
    dryRun: Boolean(o.dryRun),
    deadPids,
    planned: plan.planned,
    done,
    deletedKeys: 0,
    ttlFixed: 0,
    keptRewritten: 0,
    notOursKept: plan.notOurs,
    sample: plan.keys(names, o.sampleSize ?? 10),
    pidsWithoutKeys: [...named].filter((pid) => !plan.namedSeen.has(pid)).sort((a, b) => a - b),
  }
  if (o.dryRun) {
    if (o.listPlan) result.plan = plan.keys(names)
    return result
  }
  const {decisions} = plan
  for (let from = 0; from < decisions.size; from += APPLY_CHUNK) {
    const rows = Array.from({length: Math.min(APPLY_CHUNK, decisions.size - from)}, (_, i) => decisions.row(from + i, names))
    await o.beforeApply?.(rows.map((r) => r.item.target))
    const applied = await applyAtomically(
      redis,
      rows.map((r) => r.item),
    )
    result.deletedKeys += applied.deletedKeys
    result.ttlFixed += applied.ttlFixed
    result.keptRewritten += applied.kept
    result.notOursKept += applied.notOurs
    applied.outcomes.forEach((outcome, i) => {
      if (typeof outcome === 'number') done[rows[i].reason] += outcome
      else if (outcome === 't') done['fix-ttl']++
    })
  }
  return result
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
