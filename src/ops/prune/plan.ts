/**
 * prune's plan, made from one walk over the prefix (engine/fact-walk.ts,
 * each series of a pid seen once with its metric and meta): what goes, why,
 * and the newest write time each reason allows (the mark the script that
 * deletes checks again, atomic.ts).
 *
 * Most pairs are decided as they are seen. Those only a death could decide —
 * live gauges and bare-`gauge` twins of a pid that may be dead — wait for the
 * end of the walk, when each pid's newest write is known and its death mark
 * with it. Decisions are kept as numbers (pid, type, series, op, reason,
 * mark), never as key names, which are made a chunk at a time when applied.
 */
import type {HalfState, KeyFacts, KeyHalf, KeyNamer, MetaReader, PairRef} from '../../engine/fact-walk.js'
import {isLiveMode, type KeyKind, TYPE_INFOS} from '../../metrics/keys.js'
import {pidRunsHere} from '../local.js'
import type {AtomicItem, AtomicOp} from './atomic.js'

export type PruneReason = 'dead-live-gauge' | 'dead-artifact' | 'artifact' | 'orphan' | 'older-than' | 'fix-ttl'

export const PRUNE_REASONS: readonly PruneReason[] = ['dead-live-gauge', 'dead-artifact', 'artifact', 'orphan', 'older-than', 'fix-ttl']
/** A count of keys per reason, all 0. */
export const keysPerReason = () => Object.fromEntries(PRUNE_REASONS.map((reason) => [reason, 0])) as Record<PruneReason, number>

const OPS: readonly AtomicOp[] = ['pair', 'metric', 'meta', 'ttl-metric', 'ttl-meta']

/** What a plan is judged by: the cutoffs (Redis time, seconds) and the reasons asked for. */
export interface PlanRules {
  now: number
  /** Named dead. */
  pids: ReadonlySet<number>
  /** Dead unless running on this host. */
  local: boolean
  /** Dead without a write since (seconds). */
  staleCutoff?: number
  olderCutoff?: number
  /** Orphans written no later than this go; undefined: orphans are not asked for. */
  graceCutoff?: number
  artifacts: boolean
  fixTtlSeconds?: number
}

/** A planned key with why. */
export interface PlannedKey {
  key: string
  reason: PruneReason
}

/** A copy of `a`, `n` long: what the tables below grow by. */
function grown<T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(a: T, n: number): T {
  const b = new (a.constructor as new (length: number) => T)(n)
  b.set(a)
  return b
}

const WITH_SIBLING = 1 << 10
const SIBLING_UNREAD = 1 << 11

/** A growable table of numbers: one row per decision. */
class Decisions {
  size = 0
  private pid = new Float64Array(1024)
  private series = new Int32Array(1024)
  private mark = new Float64Array(1024)
  /** typeIndex | op << 4 | reason << 7 | withSibling << 10 | siblingUnread << 11 */
  private packed = new Uint16Array(1024)

  push(pid: number, typeIndex: number, series: number, op: number, reason: number, mark: number, withSibling: boolean, siblingUnread: boolean): void {
    if (this.size === this.pid.length) this.grow()
    const i = this.size++
    this.pid[i] = pid
    this.series[i] = series
    this.mark[i] = mark
    this.packed[i] = typeIndex | (op << 4) | (reason << 7) | (withSibling ? WITH_SIBLING : 0) | (siblingUnread ? SIBLING_UNREAD : 0)
  }

  /** The rows whose sibling (a meta) was not read, as pairs. */
  unreadSiblings(): {rows: number[]; pairs: PairRef[]} {
    const rows: number[] = []
    const pairs: PairRef[] = []
    for (let i = 0; i < this.size; i++) {
      if ((this.packed[i] & SIBLING_UNREAD) === 0) continue
      rows.push(i)
      pairs.push({pid: this.pid[i], typeIndex: this.packed[i] & 15, series: this.series[i]})
    }
    return {rows, pairs}
  }

  /** Row `i`'s sibling has been read: whether it goes along (it is ours), and its reason. */
  siblingRead(i: number, ours: boolean): PruneReason {
    this.packed[i] &= ~SIBLING_UNREAD
    if (!ours) this.packed[i] &= ~WITH_SIBLING
    return PRUNE_REASONS[(this.packed[i] >> 7) & 7]
  }

  /** Row `i` as an atomic item, its reason, and whether its sibling counts as planned. */
  row(i: number, names: KeyNamer): {item: AtomicItem; reason: PruneReason; withSibling: boolean} {
    const p = this.packed[i]
    const op = OPS[(p >> 4) & 7]
    const kind: KeyKind = op === 'meta' || op === 'ttl-meta' ? 'meta' : 'metric'
    const [pid, typeIndex, series] = [this.pid[i], p & 15, this.series[i]]
    const item = {
      op,
      target: names(pid, typeIndex, series, kind),
      sibling: names(pid, typeIndex, series, kind === 'metric' ? 'meta' : 'metric'),
      arg: String(this.mark[i]),
    }
    return {item, reason: PRUNE_REASONS[(p >> 7) & 7], withSibling: (p & WITH_SIBLING) !== 0}
  }

  private grow(): void {
    const n = 2 * this.pid.length
    this.pid = grown(this.pid, n)
    this.series = grown(this.series, n)
    this.mark = grown(this.mark, n)
    this.packed = grown(this.packed, n)
  }
}

/** A pair as the plan reads it: the walk's facts, or a waiting pair's numbers. */
interface Pair {
  pid: number
  typeIndex: number
  series: number
  metric: KeyHalf
  meta: KeyHalf
}

const STATES: readonly HalfState[] = ['ours', 'foreign', 'gone', 'unread']

/** Pairs waiting for the marks, as numbers: a store of live gauges only waits whole, so no object per pair. */
class WaitingPairs {
  size = 0
  private pid = new Float64Array(256)
  private series = new Int32Array(256)
  /** typeIndex | metric state << 4 | meta state << 6 (two bits each) */
  private packed = new Uint8Array(256)
  /** metric time, meta time, metric pttl, meta pttl */
  private numbers = new Float64Array(4 * 256)

  push(p: Pair): void {
    if (this.size === this.pid.length) this.grow()
    const i = this.size++
    this.pid[i] = p.pid
    this.series[i] = p.series
    this.packed[i] = p.typeIndex | (STATES.indexOf(p.metric.state) << 4) | (STATES.indexOf(p.meta.state) << 6)
    this.numbers.set([p.metric.time, p.meta.time, p.metric.pttl, p.meta.pttl], 4 * i)
  }

  /** Each pair in turn, in one reused object. */
  *pairs(): Generator<Pair> {
    const pair: Pair = {pid: 0, typeIndex: 0, series: 0, metric: {state: 'gone', time: 0, pttl: 0}, meta: {state: 'gone', time: 0, pttl: 0}}
    for (let i = 0; i < this.size; i++) {
      const p = this.packed[i]
      pair.pid = this.pid[i]
      pair.series = this.series[i]
      pair.typeIndex = p & 15
      pair.metric.state = STATES[(p >> 4) & 3]
      pair.meta.state = STATES[(p >> 6) & 3]
      pair.metric.time = this.numbers[4 * i]
      pair.meta.time = this.numbers[4 * i + 1]
      pair.metric.pttl = this.numbers[4 * i + 2]
      pair.meta.pttl = this.numbers[4 * i + 3]
      yield pair
    }
  }

  private grow(): void {
    const n = 2 * this.pid.length
    this.pid = grown(this.pid, n)
    this.series = grown(this.series, n)
    this.packed = grown(this.packed, n)
    this.numbers = grown(this.numbers, 4 * n)
  }
}

export class PrunePlan {
  readonly decisions = new Decisions()
  /** Keys planned per reason (a series' metric and meta count as two). */
  readonly planned = keysPerReason()
  /** Keys at exporter-shaped names that are not hashes of the exporter's shape. */
  notOurs = 0
  /** Named pids with a key under the prefix. */
  readonly namedSeen = new Set<number>()
  /** Per pid with a metric key: its newest write (seconds), undefined when none is a time. */
  private readonly newest = new Map<number, number | undefined>()
  /** Pairs only a death could decide, until the marks are known. */
  private readonly waiting = new WaitingPairs()
  private readonly runsHere = new Map<number, boolean>()
  private marks = new Map<number, number>()

  constructor(private readonly rules: PlanRules) {}

  /**
   * Whether the plan needs every meta read beside its metric: orphans are
   * judged by their sibling, and TTLs are fixed on metas too. Otherwise only
   * the metas of pairs that go are read, after the plan (readSiblings).
   */
  get needsEveryMeta(): boolean {
    return this.rules.graceCutoff !== undefined || this.rules.fixTtlSeconds !== undefined
  }

  /**
   * The metas of the pairs that go, when the walk did not read them: each
   * goes along if it is an exporter hash, and is counted as not ours if it is
   * something else at the meta's name.
   */
  async readSiblings(readMetas: MetaReader): Promise<void> {
    const {rows, pairs} = this.decisions.unreadSiblings()
    await readMetas(pairs, (j, meta) => {
      const ours = meta.state === 'ours'
      const reason = this.decisions.siblingRead(rows[j], ours)
      if (!ours) this.planned[reason]--
      if (meta.state === 'foreign') this.notOurs++
    })
  }

  /** Whether any way of judging a pid dead was asked for. */
  private get judgesLiveness(): boolean {
    return this.rules.pids.size > 0 || this.rules.local || this.rules.staleCutoff !== undefined
  }

  /** One pair of the walk. */
  see(k: KeyFacts): void {
    const meta = k.meta!
    if (this.rules.pids.has(k.pid)) this.namedSeen.add(k.pid)
    if (k.metric.state !== 'gone') {
      const t = Number.isFinite(k.metric.time) ? k.metric.time : undefined
      const seen = this.newest.get(k.pid)
      this.newest.set(k.pid, t === undefined ? seen : seen === undefined ? t : Math.max(seen, t))
    }
    const pair = {pid: k.pid, typeIndex: k.typeIndex, series: k.series, metric: k.metric, meta}
    if (this.mayDie(k.pid, k.typeIndex)) this.waiting.push(pair)
    else this.plan(pair)
  }

  /**
   * After the walk: which workers are dead, each with its death mark — the
   * newest write the walk saw of it (its own clock), never later than what
   * made it dead (the --stale cutoff, or for --pid and --local the moment
   * prune began), so any write after the judgement keeps its key. Then the
   * pairs that waited for it are decided.
   */
  judge(): number[] {
    const {now, pids, local, staleCutoff} = this.rules
    for (const pid of new Set([...pids, ...this.newest.keys()])) {
      const w = this.newest.get(pid)
      const because: number[] = []
      if (pids.has(pid) || (local && this.newest.has(pid) && !this.runs(pid))) because.push(now)
      if (staleCutoff !== undefined && this.newest.has(pid) && (w === undefined || w < staleCutoff)) because.push(staleCutoff)
      if (because.length === 0) continue
      const latest = Math.max(...because)
      this.marks.set(pid, w === undefined ? latest : Math.min(w, latest))
    }
    return [...this.marks.keys()].sort((a, b) => a - b)
  }

  /** Decides the pairs that waited for the marks. */
  decideWaiting(): void {
    for (const pair of this.waiting.pairs()) this.plan(pair)
    this.waiting.size = 0
  }

  /** The planned keys with why, in plan order: the first `limit`. */
  keys(names: KeyNamer, limit = Infinity): PlannedKey[] {
    const out: PlannedKey[] = []
    for (let i = 0; i < this.decisions.size && out.length < limit; i++) {
      const {item, reason, withSibling} = this.decisions.row(i, names)
      out.push({key: item.target, reason})
      if (withSibling && out.length < limit) out.push({key: item.sibling, reason})
    }
    return out
  }

  /** A live gauge or a twin, of a pid some rule may find dead: decided once the marks are known. */
  private mayDie(pid: number, typeIndex: number): boolean {
    const {artifact, mode} = TYPE_INFOS[typeIndex]
    if (!artifact && !(mode && isLiveMode(mode))) return false
    return this.rules.pids.has(pid) || this.rules.staleCutoff !== undefined || (this.rules.local && !this.runs(pid))
  }

  private runs(pid: number): boolean {
    let runs = this.runsHere.get(pid)
    if (runs === undefined) this.runsHere.set(pid, (runs = pidRunsHere(pid)))
    return runs
  }

  /**
   * What goes of one pair. A metric goes with its meta; a meta is judged by
   * itself only when it has no metric to go with. A key that stays may get a TTL.
   */
  private plan(p: Pair): void {
    const {metric, meta} = p
    if (metric.state === 'foreign') this.notOurs++
    if (meta.state === 'foreign') this.notOurs++
    const metaOurs = meta.state === 'ours'
    // Not read (metasOnDemand): taken along for now, and read once the plan is made (readSiblings).
    const metaUnread = meta.state === 'unread'
    const metricOurs = metric.state === 'ours'
    let metricGoes = false
    if (metricOurs) {
      const why = this.decide(p, 'metric', metric.time, metaOurs)
      // An orphan has no meta to take along.
      if (why) this.add(p, why.reason === 'orphan' ? 'metric' : 'pair', why.reason, why.mark, metaOurs || metaUnread, metaUnread)
      else if (this.rules.fixTtlSeconds !== undefined && metric.pttl === -1) this.add(p, 'ttl-metric', 'fix-ttl', this.rules.fixTtlSeconds, false)
      metricGoes = why !== undefined
    }
    if (metaOurs && !metricGoes) {
      const why = metricOurs ? undefined : this.decide(p, 'meta', meta.time, false)
      if (why) this.add(p, 'meta', why.reason, why.mark, false)
      else if (this.rules.fixTtlSeconds !== undefined && meta.pttl === -1) this.add(p, 'ttl-meta', 'fix-ttl', this.rules.fixTtlSeconds, false)
    }
  }

  private add(p: Pair, op: AtomicOp, reason: PruneReason, mark: number, withSibling: boolean, siblingUnread = false): void {
    this.decisions.push(p.pid, p.typeIndex, p.series, OPS.indexOf(op), PRUNE_REASONS.indexOf(reason), mark, withSibling, siblingUnread)
    this.planned[reason] += withSibling ? 2 : 1
  }

  /**
   * Why a key goes, and the newest write time that reason allows: the script
   * that deletes compares the key's time with that mark again. A meta is
   * judged by its own time only when it has no metric to go with.
   */
  private decide(p: Pair, kind: KeyKind, written: number, siblingOurs: boolean): {reason: PruneReason; mark: number} | undefined {
    // No readable time: nothing proves the key old.
    if (Number.isNaN(written)) return undefined
    const {now, olderCutoff, graceCutoff, artifacts} = this.rules
    const {artifact, mode} = TYPE_INFOS[p.typeIndex]
    const alone = kind === 'metric' || !siblingOurs
    if (olderCutoff !== undefined && alone && written <= olderCutoff) return {reason: 'older-than', mark: olderCutoff}
    const death = this.marks.get(p.pid)
    if (death !== undefined && written <= death) {
      if (artifact) return {reason: 'dead-artifact', mark: death}
      if (mode && isLiveMode(mode)) return {reason: 'dead-live-gauge', mark: death}
    }
    // An artifact is never data; one written after the run began waits for the next run.
    if (artifacts && artifact && written <= now) return {reason: 'artifact', mark: now}
    if (graceCutoff !== undefined && !siblingOurs && written <= graceCutoff) return {reason: 'orphan', mark: graceCutoff}
    return undefined
  }
}
