/**
 * The walk for facts about keys rather than samples: pids (each metric key's
 * write time and TTL), prune (liveness and the plan, in one pass) and
 * flushdb's listing. It runs on the same read lanes, chained SCAN, key judge
 * and series index as the sample walk (walk.ts), and never reads an
 * original_key or folds anything.
 *
 * Every key is read for the fields that make it a hash of the exporter's
 * shape (engine/shape.ts: a metric's value, timestamp, updated_at; a meta's
 * original_key, multiprocess_mode, created_at), so "ours" means here what it
 * means in the scripts that delete. With `pairs`, each series of a pid (a
 * metric key and its meta) is visited once, the two read together: from its
 * metric key when SCAN shows that, with the meta read beside it on the lane
 * of the master that owns it (or, with metasOnDemand, after the walk by the
 * caller that needs it); a meta whose metric SCAN never showed is read
 * after the scans, with its metric, and visited then. So a prune can judge a
 * key with its sibling in one walk, reading each key once, and holds only a
 * number per (pid, type) of a series and the batches in flight, never a key.
 */
import {escapeGlob, formatKey, type GaugeMode, type KeyKind, type MetricType, prefixPattern, TYPE_INFOS} from '../metrics/keys.js'
import {parsePyFloatBytes} from '../metrics/pyfloat.js'
import {ChainedScan} from '../redis/chained-scan.js'
import type {Connection} from '../redis/cluster.js'
import {type OnReply, type RawLane, ReplyError} from '../redis/lane.js'
import {type ReadLanes, withReadLanes} from '../redis/read-lanes.js'
import {CommandWriter, encodeArgs, encodeHead, type ReplyCursor} from '../redis/resp.js'
import {Found, HASH_LENGTH, KeyJudge} from './key-bytes.js'
import type {ReadOptions} from './read-options.js'
import {type CompactSlotHolder, newSlotHolder, PidBits, slotPid, slotType} from './repeats.js'
import {SeriesIndex} from './series-index.js'
import {SHAPE_FIELDS, type ShapeState} from './shape.js'

export interface FactReadOptions extends ReadOptions {
  /** Only this pid's keys. */
  pid?: number
  /** Each series of a pid once, its metric and meta read together; without, metric keys only. */
  pairs?: boolean
  /** Each key's PTTL too. */
  withTtl?: boolean
  /** With `pairs`: each series' original_key, from the first meta of it read that has one (KeyFacts.originalKey). */
  originalKeys?: boolean
  /**
   * With `pairs`: beside a metric key of the exporter's shape its meta is not
   * read (its half says `unread`); the caller reads the metas it needs after
   * the walk (readKeyFacts' `then`). A pair whose metric is not ours is read
   * whole after the scans, as a lone meta is. Reading every meta costs Redis
   * as much again as the metrics; prune, unless it looks for orphans or TTLs,
   * needs only the metas of what it deletes.
   */
  metasOnDemand?: boolean
}

/** What a key of a pair holds: with metasOnDemand, a meta not read yet is `unread`. */
export type HalfState = ShapeState | 'unread'

/** One key of a pair as read. */
export interface KeyHalf {
  state: HalfState
  /** updated_at of a metric, created_at of a meta, as Python's float() reads it (inf too); NaN when missing or not a number. */
  time: number
  /** Milliseconds to live, -1 without TTL, -2 gone; NaN unless asked (withTtl). */
  pttl: number
}

/**
 * A series of one pid: its metric key and (with `pairs`) its meta. One
 * object for the whole walk, filled anew for each visit: read what you need
 * during the call.
 */
export interface KeyFacts {
  pid: number
  /** Index into TYPE_INFOS, and what it says. */
  typeIndex: number
  type: MetricType
  mode?: GaugeMode
  /** A bare-`gauge` init twin. */
  artifact: boolean
  /** The series' number in this walk. */
  series: number
  metric: KeyHalf
  /** Only with `pairs`. */
  meta?: KeyHalf
  /** With `originalKeys`: the series' original_key, on the first visit whose meta has one; else undefined. */
  originalKey?: string
  /** The name of this pair's key of `kind`. */
  key(kind: KeyKind): string
}

export interface FactStats {
  /** Keys in SCAN's replies, redismp's own (the lock, the health probe) included. */
  scannedKeys: number
  /** Keys under the prefix, redismp's own left out, per lane (per master on a cluster). */
  keysByLane: number[]
  /** SCAN repeats (the server rehashed during the walk), each counted once. */
  repeats: number
  /** Exporter-shaped keys under a longer prefix: another application's. */
  otherPrefix: number
  /** Keys under the prefix whose names are not of the schema. */
  malformed: number
}

/** Names keys from a walk's numbers, during the walk and after it. */
export type KeyNamer = (pid: number, typeIndex: number, series: number, kind: KeyKind) => string

/** A pair by the walk's numbers. */
export interface PairRef {
  pid: number
  typeIndex: number
  series: number
}

/** After a walk with metasOnDemand: reads the metas of `pairs` and tells each one's half, by its index in `pairs`. */
export type MetaReader = (pairs: readonly PairRef[], told: (i: number, meta: KeyHalf) => void) => Promise<void>

/** SCAN COUNT for the walks over the whole prefix (reader.ts gives the measurements). */
const SCAN_COUNT = 50_000
/** Lone metas read per request after the scans. */
const LONE_CHUNK = 10_000

const HMGET = encodeHead(5, 'HMGET')
const FIELDS = {metric: encodeArgs(...SHAPE_FIELDS.metric), meta: encodeArgs(...SHAPE_FIELDS.meta)}
const PTTL = encodeHead(2, 'PTTL')
const EXISTS = encodeHead(2, 'EXISTS')
const META = Buffer.from('meta')
const METRIC_LENGTH = 'metric'.length

/** A half's state while its replies come in: a ShapeState, or not yet known. */
const OURS = 0
const FOREIGN = 1
const GONE = 2
/** Every shape field missing: gone, or a hash of other fields (PTTL or EXISTS tells). */
const NO_FIELDS = 3
const UNREAD = 4
const STATES: HalfState[] = ['ours', 'foreign', 'gone', 'gone', 'unread']

/** What a reply answers: reply code = 4 × key + 2 × half (0 metric, 1 meta) + what (0 HMGET, 1 PTTL or EXISTS). */
const code = (i: number, half: number, what: number) => 4 * i + 2 * half + what

/** The keys of one SCAN reply (or of lone metas) and their halves' replies. Reused once visited. */
class FactBatch {
  size = 0
  pid = new Float64Array(0)
  typeIndex = new Uint8Array(0)
  series = new Int32Array(0)
  /** Per key, with originalKeys: the original_key its meta told, if it names the series first. */
  originalKey: (string | undefined)[] = []
  /** Per half (2 × key + half): */
  state = new Uint8Array(0)
  time = new Float64Array(0)
  pttl = new Float64Array(0)
  /** Replies owed, on every lane. */
  owed = 0
  /** For a MetaReader's batch: whom its metas are told to, and the index of its first pair. */
  told: ((i: number, meta: KeyHalf) => void) | undefined = undefined
  first = 0
  /** Per lane, the code of each reply in order. */
  codes: number[][] = []

  reset(capacity: number, lanes: number): this {
    if (this.pid.length < capacity) {
      this.pid = new Float64Array(capacity)
      this.typeIndex = new Uint8Array(capacity)
      this.series = new Int32Array(capacity)
      this.state = new Uint8Array(2 * capacity)
      this.time = new Float64Array(2 * capacity)
      this.pttl = new Float64Array(2 * capacity)
    }
    this.size = 0
    this.owed = 0
    this.told = undefined
    this.originalKey.length = 0
    while (this.codes.length < lanes) this.codes.push([])
    for (const c of this.codes) c.length = 0
    return this
  }

  add(pid: number, typeIndex: number, series: number): number {
    const i = this.size++
    this.pid[i] = pid
    this.typeIndex[i] = typeIndex
    this.series[i] = series
    // A half not read (a meta, without pairs) stays as this says: nothing there, nothing to ask.
    this.state[2 * i] = this.state[2 * i + 1] = GONE
    this.time[2 * i] = this.time[2 * i + 1] = Number.NaN
    this.pttl[2 * i] = this.pttl[2 * i + 1] = Number.NaN
    return i
  }
}

class FactWalk {
  private readonly stats: FactStats = {scannedKeys: 0, keysByLane: [], repeats: 0, otherPrefix: 0, malformed: 0}
  /** With originalKeys: the series whose original_key was told. */
  private readonly named = new Set<number>()
  private readonly index = new SeriesIndex()
  private readonly judge: KeyJudge
  /** Per series, the (pid, type) slots of the metric keys SCAN has shown. */
  private readonly metrics: CompactSlotHolder[] = []
  /** Likewise of the meta keys: one with no metric beside it after the scans is read then. */
  private readonly metas: CompactSlotHolder[] = []
  /** Numbers the pids for both kinds' holders. */
  private readonly repeats = new PidBits()
  private readonly lanes: RawLane[]
  private readonly scanners: ChainedScan[]
  private readonly route: ReadLanes['laneOf'] | undefined
  /** One writer per lane for the batch being classified. */
  private readonly writers: CommandWriter[]
  private readonly spare: FactBatch[] = []
  /** Requests outside the scanners' chains: run() waits for them. */
  private readonly tracked: Promise<void>[] = []
  private readonly facts: KeyFacts
  private readonly pairs: boolean
  private readonly withTtl: boolean
  /** With metasOnDemand: pairs whose metric was not ours, read whole after the scans. */
  private readonly again: PairRef[] = []

  constructor(
    lanes: ReadLanes,
    private readonly o: FactReadOptions,
    private readonly visit: (k: KeyFacts) => void,
  ) {
    this.pairs = o.pairs ?? false
    this.withTtl = o.withTtl ?? false
    this.judge = new KeyJudge(o.prefix, this.index)
    this.lanes = lanes.lanes
    this.route = this.lanes.length > 1 ? lanes.laneOf : undefined
    this.writers = this.lanes.map(() => new CommandWriter(1 << 16))
    const pid = o.pid === undefined ? '*' : escapeGlob(String(o.pid))
    const match = prefixPattern(o.prefix, this.pairs ? (o.pid === undefined ? '*' : `*:${pid}:*`) : `*:${pid}:metric:*`)
    this.scanners = this.lanes.map((lane) => new ChainedScan(lane, match, o.scanCount ?? SCAN_COUNT))
    this.stats.keysByLane = this.lanes.map(() => 0)
    const namer = this.keyOf
    const facts: KeyFacts = {
      pid: 0,
      typeIndex: 0,
      type: 'counter',
      artifact: false,
      series: 0,
      metric: {state: 'gone', time: Number.NaN, pttl: Number.NaN},
      meta: this.pairs ? {state: 'gone', time: Number.NaN, pttl: Number.NaN} : undefined,
      key: (kind) => namer(facts.pid, facts.typeIndex, facts.series, kind),
    }
    this.facts = facts
  }

  /** A key's name from the walk's numbers. */
  readonly keyOf: KeyNamer = (pid, typeIndex, series, kind) => formatKey(this.o.prefix, TYPE_INFOS[typeIndex].segment, pid, kind, this.index.hexOf(series))

  async run(): Promise<FactStats> {
    await Promise.all(
      this.scanners.map((scanner, lane) =>
        scanner.run((r) => {
          this.classify(r, lane)
          this.o.onProgress?.(this.stats.scannedKeys)
        }),
      ),
    )
    await this.drain()
    await this.readLoneMetas()
    return this.stats
  }

  private async drain(): Promise<void> {
    for (let next = this.tracked.shift(); next; next = this.tracked.shift()) await next
  }

  /** Picks a SCAN reply's keys to read and sends their reads: per metric key its HMGET (and PTTL), and its meta's with `pairs`. */
  private classify(r: ReplyCursor, lane: number): void {
    const n = r.count()
    this.stats.scannedKeys += n
    const batch = (this.spare.pop() ?? new FactBatch()).reset(n, this.lanes.length)
    const {judge, writers} = this
    const own = writers[lane]
    for (let j = 0; j < n; j++) {
      r.bulk()
      const found = judge.judge(r)
      if (found !== Found.Tool) this.stats.keysByLane[lane]++
      if (found === Found.OtherPrefix) this.stats.otherPrefix++
      else if (found === Found.Malformed) this.stats.malformed++
      if (found !== Found.Metric && found !== Found.Meta) continue
      const {pid, typeIndex, series} = judge
      if (found === Found.Meta) {
        // Read with its metric, when SCAN shows that (or showed it); else after the scans.
        if (this.pairs && this.repeats.isRepeat((this.metas[series] ??= newSlotHolder()), pid, typeIndex)) this.stats.repeats++
        continue
      }
      if (this.repeats.isRepeat((this.metrics[series] ??= newSlotHolder()), pid, typeIndex)) {
        this.stats.repeats++
        continue
      }
      const i = batch.add(pid, typeIndex, series)
      const {buf, start, end, header} = r
      own
        .raw(HMGET)
        .raw(buf, header, end + 2)
        .raw(FIELDS.metric)
      batch.codes[lane].push(code(i, 0, 0))
      if (this.withTtl) {
        own.raw(PTTL).raw(buf, header, end + 2)
        batch.codes[lane].push(code(i, 0, 1))
      }
      if (!this.pairs) continue
      if (this.o.metasOnDemand) {
        batch.state[2 * i + 1] = UNREAD
        continue
      }
      // The meta's name: `metric` in the key becomes `meta`.
      const kindAt = end - HASH_LENGTH - METRIC_LENGTH - 1
      const owner = this.route ? this.route(Buffer.concat([buf.subarray(start, kindAt), META, buf.subarray(kindAt + METRIC_LENGTH, end)])) : lane
      const w = writers[owner]
      w.raw(HMGET)
        .spliced(buf, start, end, kindAt, kindAt + METRIC_LENGTH, META)
        .raw(FIELDS.meta)
      batch.codes[owner].push(code(i, 1, 0))
      if (this.withTtl) {
        w.raw(PTTL).spliced(buf, start, end, kindAt, kindAt + METRIC_LENGTH, META)
        batch.codes[owner].push(code(i, 1, 1))
      }
    }
    this.send(batch, lane)
  }

  /** Sends what the batch's writers hold, one request per lane; the scanning lane's on its chain. */
  private send(batch: FactBatch, scanning: number | undefined): void {
    batch.owed = batch.codes.reduce((sum, c) => sum + c.length, 0)
    if (batch.owed === 0) return void this.spare.push(batch)
    batch.codes.forEach((codes, lane) => {
      if (codes.length === 0) return
      this.request(
        lane,
        lane === scanning,
        this.writers[lane].take(),
        codes.length,
        this.replies(batch, codes, () => this.settle(batch)),
      )
    })
  }

  /** A request on `lane`: on its scanner's chain, or tracked for run() to wait for. */
  private request(lane: number, chained: boolean, commands: Buffer, replies: number, onReply: OnReply, onSent?: () => void): void {
    if (chained) return this.scanners[lane].request(commands, replies, onReply, onSent)
    const request = this.lanes[lane].request(commands, replies, onReply, onSent)
    request.catch(() => undefined)
    this.tracked.push(request)
  }

  /** A reply handler that files each reply by its code, and calls `done` after the batch's last one. */
  private replies(batch: FactBatch, codes: number[], done: () => void): OnReply {
    let at = 0
    return (r) => {
      const c = codes[at++]
      const h = c >> 1
      if (c & 1) batch.pttl[h] = pttlOf(r)
      else this.readHalf(r, batch, h)
      if (--batch.owed === 0) done()
    }
  }

  /** A half's shape fields; a meta's original_key kept when it is the first to name its series (originalKeys). */
  private readHalf(r: ReplyCursor, batch: FactBatch, h: number): void {
    if ((h & 1) === 0) return void readShape(r, 'metric', batch, h)
    const originalKey = readShape(r, 'meta', batch, h)
    const series = batch.series[h >> 1]
    if (originalKey !== undefined && this.o.originalKeys && !this.named.has(series)) {
      this.named.add(series)
      batch.originalKey[h >> 1] = originalKey
    }
  }

  /**
   * All replies in: a half whose shape fields were all missing is gone, or
   * a hash of other fields (not ours, but there). Its fields are read again
   * with EXISTS right behind, since a worker may have written the key since
   * the first read (sent together, Redis runs the two back to back; not in
   * MULTI, which a full server refuses to queue into); then the batch is visited.
   */
  private settle(batch: FactBatch): void {
    const byLane: number[][] = this.lanes.map(() => [])
    for (let h = 0; h < 2 * batch.size; h++) {
      if (batch.state[h] !== NO_FIELDS) continue
      const i = h >> 1
      const kind = h & 1 ? 'meta' : 'metric'
      const key = this.keyOf(batch.pid[i], batch.typeIndex[i], batch.series[i], kind)
      const lane = this.route ? this.route(Buffer.from(key)) : 0
      this.writers[lane].raw(HMGET).arg(key).raw(FIELDS[kind]).raw(EXISTS).arg(key)
      byLane[lane].push(h)
    }
    batch.owed = byLane.reduce((sum, halves) => sum + halves.length, 0)
    if (batch.owed === 0) return this.emit(batch)
    byLane.forEach((halves, lane) => {
      if (halves.length === 0) return
      let at = 0
      this.request(lane, false, this.writers[lane].take(), 2 * halves.length, (r) => {
        const h = halves[at >> 1]
        if (at++ % 2 === 0) return this.readHalf(r, batch, h)
        const exists = readCount(r)
        if (batch.state[h] === NO_FIELDS) batch.state[h] = exists === 0 ? GONE : FOREIGN
        if (--batch.owed === 0) this.emit(batch)
      })
    })
  }

  private emit(batch: FactBatch): void {
    if (batch.told) return this.tell(batch, batch.told)
    const f = this.facts
    for (let i = 0; i < batch.size; i++) {
      if (batch.state[2 * i + 1] === UNREAD && batch.state[2 * i] !== OURS) {
        // Its meta may be judged alone: read with its metric after the scans.
        this.again.push({pid: batch.pid[i], typeIndex: batch.typeIndex[i], series: batch.series[i]})
        continue
      }
      const info = TYPE_INFOS[batch.typeIndex[i]]
      f.pid = batch.pid[i]
      f.typeIndex = batch.typeIndex[i]
      f.type = info.type
      f.mode = info.mode
      f.artifact = info.artifact
      f.series = batch.series[i]
      fillHalf(f.metric, batch, 2 * i)
      if (f.meta) fillHalf(f.meta, batch, 2 * i + 1)
      f.originalKey = batch.originalKey[i]
      this.visit(f)
    }
    this.spare.push(batch)
  }

  /** A MetaReader's batch is in: each meta half to `told`. */
  private tell(batch: FactBatch, told: (i: number, meta: KeyHalf) => void): void {
    const half: KeyHalf = {state: 'gone', time: Number.NaN, pttl: Number.NaN}
    for (let i = 0; i < batch.size; i++) {
      fillHalf(half, batch, 2 * i + 1)
      told(batch.first + i, half)
    }
    this.spare.push(batch)
  }

  /** The metas of pairs the walk visited (MetaReader), a chunk at a time, a request per lane. */
  readonly readMetas: MetaReader = (pairs, told) => this.readPairs(pairs, told)

  /**
   * Reads pairs outside the scans, a chunk at a time, a request per lane:
   * both halves, visited as the walk's pairs are; or with `told`, only the
   * metas, told to it.
   */
  private async readPairs(pairs: readonly PairRef[], told?: (i: number, meta: KeyHalf) => void): Promise<void> {
    for (let from = 0; from < pairs.length; from += LONE_CHUNK) {
      const part = pairs.slice(from, from + LONE_CHUNK)
      const batch = (this.spare.pop() ?? new FactBatch()).reset(part.length, this.lanes.length)
      batch.told = told
      batch.first = from
      for (const {pid, typeIndex, series} of part) {
        const i = batch.add(pid, typeIndex, series)
        if (!told) this.write(batch, i, 0)
        this.write(batch, i, 1)
      }
      this.send(batch, undefined)
      await this.drain()
    }
  }

  /** Writes the read of half `half` (0 metric, 1 meta) of key `i` of `batch`, on its owner's lane. */
  private write(batch: FactBatch, i: number, half: number): void {
    const key = this.keyOf(batch.pid[i], batch.typeIndex[i], batch.series[i], half ? 'meta' : 'metric')
    const lane = this.route ? this.route(Buffer.from(key)) : 0
    const w = this.writers[lane]
    w.raw(HMGET)
      .arg(key)
      .raw(half ? FIELDS.meta : FIELDS.metric)
    batch.codes[lane].push(code(i, half, 0))
    if (this.withTtl) {
      w.raw(PTTL).arg(key)
      batch.codes[lane].push(code(i, half, 1))
    }
  }

  /**
   * The metas no metric key of theirs came with: read after the scans, each
   * with its metric (written meanwhile, perhaps), a request per lane per chunk.
   */
  private async readLoneMetas(): Promise<void> {
    const lone: PairRef[] = this.again.splice(0)
    this.metas.forEach((metas, series) => {
      const metrics = this.metrics[series]
      for (const slot of this.repeats.slotsOf(metas)) {
        const [pid, typeIndex] = [slotPid(slot), slotType(slot)]
        if (metrics === undefined || !this.repeats.has(metrics, pid, typeIndex)) lone.push({pid, typeIndex, series})
      }
    })
    await this.readPairs(lone)
  }
}

function fillHalf(half: KeyHalf, batch: FactBatch, h: number): void {
  half.state = STATES[batch.state[h]]
  half.time = batch.time[h]
  half.pttl = batch.pttl[h]
}

/**
 * An HMGET of a half's shape fields: ours, foreign (another type, or a hash
 * of other fields), or no field at all. Returns a meta's original_key when
 * it has one and is ours.
 */
function readShape(r: ReplyCursor, kind: KeyKind, batch: FactBatch, h: number): string | undefined {
  batch.time[h] = Number.NaN
  if (r.type === 0x2d) {
    const message = r.line()
    // Another type at our name; any other error (MOVED, ASK on a cluster) ends the walk.
    if (!message.startsWith('WRONGTYPE')) throw new ReplyError(message)
    batch.state[h] = FOREIGN
    return undefined
  }
  r.count()
  const first = r.bulk()
  const [firstStart, firstEnd] = [r.start, r.end]
  const second = r.bulk()
  const third = r.bulk()
  if (third) batch.time[h] = parsePyFloatBytes(r.buf, r.start, r.end) ?? Number.NaN
  const ours = kind === 'metric' ? first && second && third : first || second
  batch.state[h] = ours ? OURS : first || second || third ? FOREIGN : NO_FIELDS
  return ours && kind === 'meta' && first ? r.text(firstStart, firstEnd) : undefined
}

/** A PTTL reply: -2 for a key gone; an error (MOVED, ASK on a cluster) ends the walk. */
function pttlOf(r: ReplyCursor): number {
  if (r.type === 0x2d) throw new ReplyError(r.line())
  return r.type === 0x3a ? r.count() : -2
}

/** An integer reply (EXISTS). */
function readCount(r: ReplyCursor): number {
  if (r.type === 0x2d) throw new ReplyError(r.line())
  return r.count()
}

/**
 * Facts about the keys under the prefix, one visit per metric key — or with
 * `pairs` per series of a pid, its metric and meta together — and a way to
 * name the walk's keys from its numbers afterwards.
 */
export function readKeyFacts(
  redis: Connection,
  o: FactReadOptions,
  visit: (k: KeyFacts) => void,
  then?: (readMetas: MetaReader) => Promise<void>,
): Promise<FactStats & {names: KeyNamer; laneNames: string[]}> {
  return withReadLanes(redis, async (lanes) => {
    const walk = new FactWalk(lanes, o, visit)
    const stats = await walk.run()
    await then?.(walk.readMetas)
    return {...stats, names: walk.keyOf, laneNames: lanes.names}
  })
}
