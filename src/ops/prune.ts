/**
 * `prune`: cleanup for cron that never makes counter totals go backwards
 * unless told to. By default it does what prometheus_client's
 * mark_process_dead does for dead workers — their live* gauges go (with the
 * exporter's bare-`gauge` twins), their counters, histograms, summaries and
 * other gauges stay. Everything else is opt-in.
 *
 * Two phases per SCAN batch: a plan (one pipelined read), then one atomic
 * script that re-checks each decision on the server. Interrupted at any point,
 * the store is consistent and a re-run finishes the job.
 */
import type {Redis} from 'ioredis'

import {isLiveMode, type ParsedKey, siblingKey} from '../metrics/keys.js'
import {parsePyFloat} from '../metrics/pyfloat.js'
import {PUT_FIELD, evalFieldsInChunks, scriptOrPipeline} from '../redis/lua.js'
import {pipelineReplies} from '../redis/pipeline.js'
import {redisTime} from '../redis/time.js'
import {type AtomicItem, applyAtomically} from '../storage/atomic.js'
import {scanPrefix} from '../storage/keyspace.js'
import {pidRunsHere} from './local.js'
import {listPids} from './pids.js'

export type PruneReason = 'dead-live-gauge' | 'dead-artifact' | 'artifact' | 'orphan' | 'older-than' | 'fix-ttl'

export interface PruneOptions {
  prefix: string
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
  scanCount?: number
  /** Told the number of keys scanned so far, after each batch. */
  onProgress?: (scanned: number) => void
  /** Called between a batch's plan and its execution with the keys planned: a seam for race tests. */
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
  /** Rewritten by a worker after the plan: kept. */
  keptRewritten: number
  failed: number
  /** Some of the keys planned, with why. */
  sample: {key: string; reason: PruneReason}[]
}

export const DEFAULT_ORPHAN_GRACE_MS = 60_000

/** Keys per SCAN call: each batch is planned with a few scripts and applied with one. */
const PRUNE_SCAN_COUNT = 5000

/** The pids that count as dead for this run. */
async function deadPids(redis: Redis, o: PruneOptions, now: number): Promise<Set<number>> {
  const dead = new Set(o.pids ?? [])
  if (o.local || o.staleMs !== undefined) {
    for (const row of await listPids(redis, {prefix: o.prefix})) {
      if (o.local && !pidRunsHere(row.pid)) dead.add(row.pid)
      if (o.staleMs !== undefined && (row.newestWrite ?? 0) < now - o.staleMs / 1000) dead.add(row.pid)
    }
  }
  return dead
}

interface PlanFacts {
  updatedAt?: string
  createdAt?: string
  siblingExists?: boolean
  pttl?: number
}

/**
 * Per key: its write time (updated_at of a metric, created_at of a meta),
 * whether its sibling exists, and (for --fix-ttl) its PTTL — length-prefixed
 * from one read-only script per 5000 keys (redis/lua.ts). pcall: a foreign
 * non-hash key reads as having no time, and the apply step reports it.
 */
const FACTS = `#!lua flags=no-writes
${PUT_FIELD}
local withTtl = ARGV[1] == '1'
for i = 1, #KEYS, 2 do
  local t = redis.pcall('HGET', KEYS[i], ARGV[(i + 1) / 2 + 1])
  if type(t) == 'table' then t = false end
  put(t)
  put(tostring(redis.call('EXISTS', KEYS[i + 1])))
  if withTtl then put(tostring(redis.call('PTTL', KEYS[i]))) end
end
return table.concat(out)`

const FACTS_CHUNK = 5000
const APPLY_CHUNK = 1000

/** What one batch needs to know: a few scripts, or one pipeline where scripts are refused. */
async function facts(redis: Redis, keys: ParsedKey[], o: PruneOptions, mode: {scripts: boolean}): Promise<PlanFacts[]> {
  const withTtl = o.fixTtlSeconds !== undefined
  const timeField = (k: ParsedKey) => (k.kind === 'metric' ? 'updated_at' : 'created_at')
  const sibling = (k: ParsedKey) => siblingKey(k, k.kind === 'metric' ? 'meta' : 'metric')
  const toFacts = (k: ParsedKey, time: string | undefined, siblingExists: boolean, pttl: number | undefined): PlanFacts => ({
    ...(k.kind === 'metric' ? {updatedAt: time} : {createdAt: time}),
    siblingExists,
    pttl,
  })
  const per = withTtl ? 3 : 2
  return scriptOrPipeline(
    mode,
    async () => {
      const flat = await evalFieldsInChunks(redis, FACTS, keys, FACTS_CHUNK, (part) => ({
        keys: part.flatMap((k) => [k.key, sibling(k)]),
        args: [withTtl ? '1' : '0', ...part.map(timeField)],
      }))
      return keys.map((k, i) => toFacts(k, flat[i * per] ?? undefined, flat[i * per + 1] === '1', withTtl ? Number(flat[i * per + 2]) : undefined))
    },
    async () => {
      const replies = await pipelineReplies(redis, (p) => {
        for (const k of keys) {
          p.hget(k.key, timeField(k))
          p.exists(sibling(k))
          if (withTtl) p.pttl(k.key)
        }
      })
      return keys.map((k, i) => {
        const [time, sib, pttl] = [replies[i * per], replies[i * per + 1], replies[i * per + 2]]
        return toFacts(k, time.ok && typeof time.value === 'string' ? time.value : undefined, sib.ok && sib.value === 1, pttl?.ok ? Number(pttl.value) : undefined)
      })
    },
  )
}

export async function prune(redis: Redis, o: PruneOptions): Promise<PruneResult> {
  const now = await redisTime(redis)
  const dead = await deadPids(redis, o, now)
  const graceCutoff = now - (o.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS) / 1000
  const olderCutoff = o.olderThanMs === undefined ? undefined : now - o.olderThanMs / 1000
  const planned: Record<PruneReason, number> = {'dead-live-gauge': 0, 'dead-artifact': 0, artifact: 0, orphan: 0, 'older-than': 0, 'fix-ttl': 0}
  const done: Record<PruneReason, number> = {'dead-live-gauge': 0, 'dead-artifact': 0, artifact: 0, orphan: 0, 'older-than': 0, 'fix-ttl': 0}
  const result: PruneResult = {dryRun: Boolean(o.dryRun), deadPids: [...dead].sort((a, b) => a - b), planned, done, deletedKeys: 0, ttlFixed: 0, keptRewritten: 0, failed: 0, sample: []}
  const sampleSize = o.sampleSize ?? 10

  let scanned = 0
  const readMode = {scripts: true}
  for await (const batch of scanPrefix(redis, o.prefix, {count: o.scanCount ?? PRUNE_SCAN_COUNT})) {
    scanned += batch.ours.length + batch.foreign.length + batch.otherPrefix.length
    o.onProgress?.(scanned)
    if (batch.ours.length === 0) continue
    const known = await facts(redis, batch.ours, o, readMode)
    const items: AtomicItem[] = []
    const reasons: PruneReason[] = []
    const plan = (item: AtomicItem, reason: PruneReason, keys: number) => {
      items.push(item)
      reasons.push(reason)
      planned[reason] += keys
      if (result.sample.length < sampleSize) result.sample.push({key: item.target, reason})
    }
    batch.ours.forEach((k, i) => {
      const f = known[i]
      const reason = decide(k, f)
      const sibling = siblingKey(k, k.kind === 'metric' ? 'meta' : 'metric')
      if (reason && k.kind === 'metric' && f.updatedAt !== undefined) {
        // The series goes: metric and meta together, if the metric is unchanged.
        plan({op: reason === 'orphan' ? 'metric' : 'pair', target: k.key, sibling, expected: f.updatedAt}, reason, reason === 'orphan' ? 1 : f.siblingExists ? 2 : 1)
      } else if (reason && k.kind === 'meta' && !f.siblingExists) {
        // A meta whose metric is gone; one with its metric goes with that metric.
        plan({op: 'meta', target: k.key, sibling, expected: ''}, reason, 1)
      } else if (o.fixTtlSeconds !== undefined && f.pttl === -1) {
        plan({op: 'ttl', target: k.key, sibling, expected: String(o.fixTtlSeconds)}, 'fix-ttl', 1)
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
      result.failed += applied.failed
      applied.outcomes.forEach((outcome, i) => {
        if (typeof outcome === 'number') done[reasons[from + i]] += outcome
        else if (outcome === 't') done['fix-ttl']++
      })
    }
  }
  return result

  function decide(k: ParsedKey, f: PlanFacts): PruneReason | undefined {
    const written = parsePyFloat((k.kind === 'metric' ? f.updatedAt : f.createdAt) ?? '') ?? 0
    if (olderCutoff !== undefined && k.kind === 'metric' && written < olderCutoff) return 'older-than'
    if (olderCutoff !== undefined && k.kind === 'meta' && !f.siblingExists && written < olderCutoff) return 'older-than'
    if (dead.has(k.pid) && k.artifact) return 'dead-artifact'
    if (dead.has(k.pid) && k.mode && isLiveMode(k.mode)) return 'dead-live-gauge'
    if (o.artifacts && k.artifact) return 'artifact'
    if (o.orphans && !f.siblingExists && written < graceCutoff) return 'orphan'
    return undefined
  }
}

/** One line for cron mail. */
export function summarizePrune(r: PruneResult): string {
  const verb = r.dryRun ? 'would delete' : 'deleted'
  const reasons = (Object.entries(r.dryRun ? r.planned : r.done) as [PruneReason, number][]).filter(([reason, n]) => n > 0 && reason !== 'fix-ttl')
  const deleted = r.dryRun ? reasons.reduce((sum, [, n]) => sum + n, 0) : r.deletedKeys
  const ttl = r.dryRun ? r.planned['fix-ttl'] : r.ttlFixed
  const parts: string[] = []
  if (r.deadPids.length) parts.push(`dead pids: ${r.deadPids.slice(0, 8).join(' ')}${r.deadPids.length > 8 ? ' …' : ''}`)
  parts.push(`${verb} ${deleted} keys${reasons.length ? ` (${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')})` : ''}`)
  if (ttl) parts.push(`${r.dryRun ? 'would set' : 'set'} a TTL on ${ttl} keys`)
  if (r.keptRewritten) parts.push(`kept ${r.keptRewritten} rewritten since planned`)
  if (r.failed) parts.push(`${r.failed} failed`)
  if (deleted === 0 && !ttl) parts.push('nothing to prune')
  return `prune: ${parts.join('; ')}`
}
