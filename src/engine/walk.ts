/**
 * One walk over a prefix for readMetricKeys (reader.ts), on read lanes
 * (redis/lane.ts): keys are classified on the SCAN reply's bytes, their reads
 * written from those bytes, and every reply folded as it arrives.
 *
 * On a cluster there is one lane per master, each scanning its master's keys,
 * all folding into the one series index. A key's meta (another key, so most
 * often another slot and master) is read on the lane of the master that owns
 * it (ReadLanes.laneOf); its reply may then come after the key's fields, and
 * the key waits as it does for a meta read late on one server (finish, unnamed).
 */
import {isValidLabelName, isValidMetricName, type LabelPairs, type SeriesSlot} from '../metrics/aggregate.js'
import {escapeGlob, formatKey, type GaugeMode, prefixPattern, TYPE_INFOS} from '../metrics/keys.js'
import {parsePyFloatBytes} from '../metrics/pyfloat.js'
import {compareCodePoints, parseOriginalKeyPairs, sortByCodePoint} from '../metrics/pyjson.js'
import {ChainedScan} from '../redis/chained-scan.js'
import {type OnReply, type RawLane, ReplyError} from '../redis/lane.js'
import type {ReadLanes} from '../redis/read-lanes.js'
import {CommandWriter, encodeArgs, encodeHead, type ReplyCursor} from '../redis/resp.js'
import {Found, HASH_LENGTH, KeyJudge} from './key-bytes.js'
import type {MetricReadOptions, ReadKey, ReadStats, SeriesIdentity, SkippedCounts} from './read-model.js'
import {type CompactSlotHolder, PidBits} from './repeats.js'
import {SeriesIndex} from './series-index.js'
import {MODE_TYPE, modeElsewhere, TWIN_MODES, TWIN_TYPE, wroteOwnKey} from './unset-gauges.js'

type Known = SeriesIdentity | 'bad-json' | 'bad-name' | 'filtered'

/** A series' identity from its original_key, judged once per series: names that are not Prometheus names never reach an output. */
function toIdentity(text: string, filter?: (name: string) => boolean): Known {
  const id = parseOriginalKeyPairs(text)
  if (!id) return 'bad-json'
  if (!isValidMetricName(id.metricName) || !isValidMetricName(id.sampleName)) return 'bad-name'
  if (filter && !filter(id.metricName)) return 'filtered'
  for (const [name] of id.labels) if (!isValidLabelName(name)) return 'bad-name'
  return {metricName: id.metricName, sampleName: id.sampleName, labels: inCodePointOrder(id.labels), help: id.help}
}

/** Label pairs by name in code-point order: json.dumps(sort_keys=True) wrote them so, and a sort is only for other writers. */
function inCodePointOrder(labels: LabelPairs): LabelPairs {
  for (let i = 1; i < labels.length; i++) if (compareCodePoints(labels[i - 1][0], labels[i][0]) > 0) return sortByCodePoint(labels, ([name]) => name)
  return labels
}

/** The SCAN pattern after `{prefix}:`: the metric keys asked for, or with everyKey all keys of that type and pid (all keys when unfiltered). */
function scanRest(o: MetricReadOptions): string {
  if (o.everyKey && o.pid === undefined && o.type === undefined) return '*'
  const pid = o.pid === undefined ? '*' : escapeGlob(String(o.pid))
  const type = o.type === undefined ? '*' : o.type === 'gauge' ? 'gauge*' : o.type
  return `${type}:${pid}:${o.everyKey ? '*' : 'metric:*'}`
}

/**
 * Everything the reader knows about one series (one md5), reached by its
 * number in the walk's SeriesIndex. A class, so that every entry has one
 * shape and the hot loops read its fields at fixed offsets.
 */
class SeriesEntry implements CompactSlotHolder, SeriesSlot {
  /** The identity once a meta named the series, or why it cannot be used. */
  id: Known | undefined = undefined
  /** Its meta is on its way in some batch. */
  requested = false
  /** The (pid, type) keys SCAN has shown (repeats.ts's PidBits). */
  bitsType = -1
  bits = 0
  slots: number[] | Set<number> | undefined = undefined
  /** The consumer's per-series cache (the aggregator's). */
  folded: SeriesSlot['folded'] = undefined
  /** The created_at of the meta that named the series (seconds), with withCreatedAt; NaN when unknown. */
  createdAt = Number.NaN
}

/** `:metric:` and the hash end every key the walk reads. */
const METRIC_TAIL = Buffer.from(':metric:')
const META = Buffer.from('meta')
const HMGET = encodeHead(5, 'HMGET')
const HMGET_FIELDS = encodeArgs('value', 'timestamp', 'updated_at')
const PTTL = encodeHead(2, 'PTTL')
const HGET = encodeHead(3, 'HGET')
const HGET_ORIGINAL_KEY = encodeArgs('original_key')
const HGET_MODE = encodeArgs('multiprocess_mode')
/** The meta read when created_at is asked for too: HMGET key original_key created_at. */
const HMGET_META = encodeHead(4, 'HMGET')
const HMGET_META_FIELDS = encodeArgs('original_key', 'created_at')
const MEMORY_USAGE = encodeHead(3, 'MEMORY', 'USAGE')

/**
 * Per key of a batch, what it is folded with when its fields arrive. Typed
 * arrays, off the JS heap, and used again for a later batch once this one is
 * done: a walk cycles through the few batches in flight instead of leaving
 * one set per SCAN reply to the GC.
 */
class Batch {
  size = 0
  /** The lane that scanned it (its master's, on a cluster). */
  lane = 0
  pid = new Float64Array(0)
  typeIndex = new Uint8Array(0)
  series = new Int32Array(0)
  /** Where each key's bulk string lies in the SCAN reply (`$` header to CRLF), while its reads are written. */
  at = new Int32Array(0)
  /** Keys whose own meta is read ahead of the batch's HMGETs: series new to the walk. */
  readonly metaOf: number[] = []
  /** Keys whose own meta is read on another master's lane (a cluster). */
  readonly metaElsewhere: number[] = []
  /** Keys whose series no meta had named when their fields came: they wait for the end of the batch. */
  readonly waiting: Unnamed[] = []

  /** Empties the batch for up to `capacity` keys. */
  reset(capacity: number): this {
    if (this.pid.length < capacity) {
      this.pid = new Float64Array(capacity)
      this.typeIndex = new Uint8Array(capacity)
      this.series = new Int32Array(capacity)
      this.at = new Int32Array(2 * capacity)
    }
    this.size = 0
    this.metaOf.length = 0
    this.metaElsewhere.length = 0
    this.waiting.length = 0
    return this
  }

  add(pid: number, typeIndex: number, series: number, bulkStart: number, bulkEnd: number): void {
    this.at[2 * this.size] = bulkStart
    this.at[2 * this.size + 1] = bulkEnd
    this.pid[this.size] = pid
    this.typeIndex[this.size] = typeIndex
    this.series[this.size++] = series
  }
}

/** What one HMGET (and PTTL) answered. */
const enum Read {
  Ok = 0,
  NonHash = 1,
  /** Every field missing: the key expired between SCAN and read. */
  Gone = 2,
  BadNumber = 3,
}

interface Fields {
  /** The key's index in its batch. */
  i: number
  state: Read
  value: number
  timestamp: number
  /** updated_at; NaN when missing or not a number, which `hasUpdatedAt` tells apart. */
  updatedAt: number
  hasUpdatedAt: boolean
  pttl: number
}

/** A key read before any meta named its series: all it needs to be folded later, or counted an orphan. */
interface Unnamed extends Fields {
  pid: number
  typeIndex: number
  series: number
}

/**
 * One walk over the prefix, driven by replies: a SCAN reply sends the next
 * SCAN at once, then this batch's reads (the metas of new series first, so
 * that every key's identity is known when its fields arrive), and each HMGET
 * reply is folded as it comes. Redis is never left without the next command
 * while we work, and we never hold more than the batches in flight.
 */
export class Walk {
  private readonly skipped: SkippedCounts = {
    artifacts: 0,
    otherPrefix: 0,
    malformedName: 0,
    nonHash: 0,
    orphans: 0,
    badJson: 0,
    badNumber: 0,
    badName: 0,
    badLe: 0,
    typeConflict: 0,
  }
  private readonly stats: ReadStats = {scannedKeys: 0, samples: 0, skipped: this.skipped, repeats: 0, unsetGauges: 0}
  private readonly index = new SeriesIndex()
  private readonly repeats = new PidBits()
  private readonly entries: SeriesEntry[] = []
  private readonly writer = new CommandWriter(1 << 20)
  private readonly judge: KeyJudge
  private readonly withTtl: boolean
  /** Keys no meta had named by the end of their batch. */
  private readonly unnamed: Unnamed[] = []
  /** The bare-`gauge` twins met, as pid, series pairs (see foldUnsetGauges). */
  private readonly twins: number[] = []
  /** Batches done with, to be filled again. */
  private readonly spareBatches: Batch[] = []
  /** The fields of the key being read (an HMGET reply, then maybe its PTTL's). */
  private readonly current: Fields = {i: 0, state: Read.Ok, value: 0, timestamp: 0, updatedAt: 0, hasUpdatedAt: false, pttl: -1}

  /** With transientKeys: the one ReadKey every visit gets. */
  private readonly reused: ReadKey | undefined

  /** One per lane: per master on a cluster. */
  private readonly scanners: ChainedScan[]
  private readonly lanes: RawLane[]
  /** The lane owning a key; undefined with one lane. */
  private readonly route: ReadLanes['laneOf'] | undefined
  /** Metas of a batch to be read on other masters' lanes, by lane. */
  private readonly elsewhere: {writer: CommandWriter; series: number[]}[]
  /** Requests sent on a lane other than the scanning one: run() waits for them after the scans. */
  private readonly tracked: Promise<void>[] = []
  /** Keys whose memory was asked for (ReadOptions.memory) and not yet sent: pid, stored type, series, and the key as visited. */
  private readonly memoryAsked: {pid: number; typeIndex: number; series: number; key: ReadKey}[] = []

  constructor(
    lanes: ReadLanes,
    private readonly o: MetricReadOptions & {scanCount: number},
    private readonly visit: (k: ReadKey) => void,
  ) {
    this.judge = new KeyJudge(o.prefix, this.index)
    this.withTtl = o.withTtl ?? false
    this.reused = o.transientKeys && !o.memory ? blankReadKey() : undefined
    this.lanes = lanes.lanes
    this.scanners = this.lanes.map((lane) => new ChainedScan(lane, prefixPattern(o.prefix, scanRest(o)), o.scanCount))
    this.route = this.lanes.length > 1 ? lanes.laneOf : undefined
    this.elsewhere = this.lanes.map(() => ({writer: new CommandWriter(1 << 16), series: []}))
  }

  async run(): Promise<ReadStats> {
    await Promise.all(
      this.scanners.map((scanner, lane) =>
        scanner.run((r) => {
          this.read(this.classify(r, lane), lane)
          this.o.onProgress?.(this.stats.scannedKeys)
        }),
      ),
    )
    await this.drain()
    // Keys read before their series was named: folded now if a later meta named it, orphans if none did.
    for (const u of this.unnamed.splice(0)) this.settle(u.pid, u.typeIndex, u.series, u, undefined)
    await this.foldUnsetGauges()
    // The memory of keys folded at the end (those above) is asked too: a sample misses no key it picked.
    await this.drain()
    return this.stats
  }

  /**
   * After the scans: waits for the requests sent outside the scanners' chains,
   * and sends the memory asked by keys folded since the last batch's request.
   * A meta read late (on another master's lane) folds the keys that waited for
   * it, which may ask for more: until nothing is left.
   */
  private async drain(): Promise<void> {
    do {
      this.askMemory(undefined)
      for (let next = this.tracked.shift(); next; next = this.tracked.shift()) await next
    } while (this.memoryAsked.length > 0)
  }

  /**
   * The 0.0 of each live gauge a worker created but has not written yet
   * (unset-gauges.ts): its bare `gauge` twin where the pid has no key of its
   * own for the series. Read after the walk, in one request: the twin's
   * fields, its pid's metas under each mode that leaves a twin (which one
   * names the gauge's mode), and the twin's meta for original_key when no key
   * named the series.
   */
  private async foldUnsetGauges(): Promise<void> {
    const unset: {pid: number; series: number; modes: GaugeMode[]; f: Fields}[] = []
    const parts = this.lanes.map(() => ({w: new CommandWriter(1 << 12), handlers: [] as OnReply[]}))
    /** The writer and handlers of the lane that owns `key`. */
    const at = (key: string) => parts[this.route ? this.route(Buffer.from(key)) : 0]
    for (let j = 0; j < this.twins.length; j += 2) {
      const [pid, series] = [this.twins[j], this.twins[j + 1]]
      const entry = this.entries[series]
      // Beside a key of its own the twin is what init left behind; a series filtered out or unusable needs no reads.
      if (wroteOwnKey(this.repeats.slotsOf(entry), pid) || typeof entry.id === 'string') {
        this.skipped.artifacts++
        continue
      }
      const u = {pid, series, modes: [] as GaugeMode[], f: {...this.current}}
      unset.push(u)
      const twin = this.keyOf(pid, TWIN_TYPE, series, 'metric')
      const p = at(twin)
      p.w.raw(HMGET).arg(twin).raw(HMGET_FIELDS)
      p.handlers.push((r) => readFields(r, u.f))
      if (this.withTtl) {
        p.w.raw(PTTL).arg(twin)
        p.handlers.push((r) => void (u.f.pttl = pttlOf(r)))
      }
      if (entry.id === undefined) {
        const meta = this.keyOf(pid, TWIN_TYPE, series, 'meta')
        const q = at(meta)
        writeMetaRead(q.w, meta, this.o.withCreatedAt)
        q.handlers.push((r) => this.learn(series, r))
      }
      for (const mode of TWIN_MODES) {
        const meta = this.keyOf(pid, MODE_TYPE[mode], series, 'meta')
        const q = at(meta)
        q.w.raw(HGET).arg(meta).raw(HGET_MODE)
        q.handlers.push((r) => void (metaText(r) === mode && u.modes.push(mode)))
      }
    }
    if (unset.length === 0) return
    await Promise.all(
      parts.map(({w, handlers}, lane) => {
        let k = 0
        return this.lanes[lane].request(w.take(), handlers.length, (r) => handlers[k++](r))
      }),
    )
    for (const u of unset) {
      const mode = u.modes.length === 1 ? u.modes[0] : u.modes.length === 0 ? modeElsewhere(this.repeats.slotsOf(this.entries[u.series]), u.pid) : undefined
      if (mode === undefined) {
        this.skipped.artifacts++
        continue
      }
      this.stats.unsetGauges++
      this.settle(u.pid, MODE_TYPE[mode], u.series, u.f, undefined, TWIN_TYPE)
    }
  }

  /**
   * Picks the keys to read (ours, metric, not a bare-`gauge` twin, not a repeat) and
   * writes the HGETs of the metas of series new to the walk, then their HMGETs.
   */
  private classify(r: ReplyCursor, lane: number): Batch {
    const n = r.count()
    const batch = (this.spareBatches.pop() ?? new Batch()).reset(n)
    const w = this.writer
    this.stats.scannedKeys += n
    const {judge} = this
    for (let i = 0; i < n; i++) {
      r.bulk()
      const found = judge.judge(r)
      if (found === Found.OtherPrefix) this.skipped.otherPrefix++
      else if (found === Found.Malformed) this.skipped.malformedName++
      if (found !== Found.Metric) continue
      const {buf, start, end} = r
      const {typeIndex, pid, series: id} = judge
      const entry = (this.entries[id] ??= new SeriesEntry())
      if (this.repeats.isRepeat(entry, pid, typeIndex)) {
        this.stats.repeats++
        continue
      }
      if (typeIndex === TWIN_TYPE) {
        // Decided at the end of the walk, when every key of its series has been seen (unset-gauges.ts).
        this.twins.push(pid, id)
        continue
      }
      if (entry.id === undefined && !entry.requested) {
        entry.requested = true
        const kind = end - HASH_LENGTH - METRIC_TAIL.length + 1
        const owner = this.route ? this.route(metaKeyOf(buf, start, end, kind)) : lane
        const created = this.o.withCreatedAt
        let mw = w
        if (owner === lane) batch.metaOf.push(batch.size)
        else {
          batch.metaElsewhere.push(batch.size)
          const e = this.elsewhere[owner]
          e.series.push(id)
          mw = e.writer
        }
        mw.raw(created ? HMGET_META : HGET)
          .spliced(buf, start, end, kind, kind + 'metric'.length, META)
          .raw(created ? HMGET_META_FIELDS : HGET_ORIGINAL_KEY)
      }
      batch.add(pid, typeIndex, id, r.header, end + 2)
    }
    // The HMGETs after the metas, from the positions noted above.
    const {at} = batch
    for (let j = 0; j < 2 * batch.size; j += 2) {
      // at[j] is where the key's `$` header begins in the reply: the bulk string goes out as it came in.
      w.raw(HMGET)
        .raw(r.buf, at[j], at[j + 1])
        .raw(HMGET_FIELDS)
      if (this.withTtl) w.raw(PTTL).raw(r.buf, at[j], at[j + 1])
    }
    return batch
  }

  /** A key as text, made again from its parts. */
  private keyOf(pid: number, typeIndex: number, series: number, kind: 'metric' | 'meta'): string {
    return formatKey(this.o.prefix, TYPE_INFOS[typeIndex].segment, pid, kind, this.index.hexOf(series))
  }

  /** Sends the metas classify() wrote for other masters' lanes, one request per lane. */
  private sendElsewhere(): void {
    this.elsewhere.forEach(({writer, series}, lane) => {
      if (series.length === 0) return
      const asked = series.splice(0)
      let j = 0
      this.track(lane, writer.take(), asked.length, (r) => this.learn(asked[j++], r))
    })
  }

  /** A request on `lane` outside its scanner's chain; run() waits for it after the scans. */
  private track(lane: number, commands: Buffer, replies: number, onReply: OnReply): void {
    const request = this.lanes[lane].request(commands, replies, onReply)
    request.catch(() => undefined)
    this.tracked.push(request)
  }

  /** Sends a batch's reads: metas first, then per key HMGET (and PTTL); folds each key as its reply comes. */
  private read(batch: Batch, lane: number): void {
    if (this.route) this.sendElsewhere()
    const metas = batch.metaOf.length
    const per = this.withTtl ? 2 : 1
    const total = metas + batch.size * per
    const f = this.current
    let at = 0
    const onReply = (r: ReplyCursor) => {
      const k = at++
      if (k < metas) this.learn(batch.series[batch.metaOf[k]], r)
      else if (per === 1) {
        readFields(r, f)
        f.i = k - metas
        this.settle(batch.pid[f.i], batch.typeIndex[f.i], batch.series[f.i], f, batch.waiting)
      } else if ((k - metas) % 2 === 0) readFields(r, f)
      else {
        f.pttl = pttlOf(r)
        f.i = (k - metas - 1) / 2
        this.settle(batch.pid[f.i], batch.typeIndex[f.i], batch.series[f.i], f, batch.waiting)
      }
      if (at === total) this.finish(batch)
    }
    if (total === 0) return void this.spareBatches.push(batch)
    const commands = this.writer.detach()
    batch.lane = lane
    this.scanners[lane].request(commands, total, onReply, () => this.writer.reuse(commands))
  }

  /**
   * Folds one key's fields, or counts why not. A key whose series no meta
   * has named yet goes to `unnamed` (the walk's end decides), or, at the
   * end, counts as an orphan.
   */
  private settle(pid: number, typeIndex: number, series: number, f: Fields, unnamed: Unnamed[] | undefined, storedAs = typeIndex): void {
    if (f.state === Read.NonHash) {
      this.skipped.nonHash++
      return
    }
    const entry = this.entries[series]
    const {id} = entry
    if (typeof id !== 'object') {
      if (id === undefined) {
        if (unnamed) unnamed.push({...f, pid, typeIndex, series})
        else this.skipped.orphans++
      } else if (id === 'bad-json') this.skipped.badJson++
      else if (id === 'bad-name') this.skipped.badName++
      return
    }
    if (f.state === Read.Gone) return
    if (f.state === Read.BadNumber) {
      this.skipped.badNumber++
      return
    }
    this.stats.samples++
    const info = TYPE_INFOS[typeIndex]
    const pttl = this.withTtl ? f.pttl : undefined
    const name = this.o.withKeys ? this.keyOf(pid, storedAs, series, 'metric') : undefined
    const {reused} = this
    // transientKeys: the one object, filled anew (the visitor kept nothing of it).
    if (reused) return this.visit(fillReadKey(reused, pid, info, id, f, entry, pttl, name))
    const key = fillReadKey(blankReadKey(), pid, info, id, f, entry, pttl, name)
    this.visit(key)
    if (this.o.memory?.pick(key)) this.memoryAsked.push({pid, typeIndex: storedAs, series, key})
  }

  /**
   * MEMORY USAGE of the keys picked since the last request, each metric key
   * with its meta, sent after a batch's replies are folded (a key's family is
   * known only then): a round trip per batch at most, never one per key. Each
   * key is asked on its owner's lane (on a cluster a meta is most often on
   * another master): the scanning lane's part goes on its chain, the rest is
   * tracked; `scanning` undefined (after the scans) tracks every part. A key
   * is told once both its sizes are in.
   */
  private askMemory(scanning: number | undefined): void {
    const asked = this.memoryAsked.splice(0)
    if (asked.length === 0) return
    const {told} = this.o.memory!
    const bytes = new Float64Array(2 * asked.length)
    const pending = new Uint8Array(asked.length).fill(2)
    const byLane = new Map<number, number[]>()
    asked.forEach((a, i) => {
      for (const kind of ['metric', 'meta'] as const) {
        const key = this.keyOf(a.pid, a.typeIndex, a.series, kind)
        const owner = this.route ? this.route(Buffer.from(key)) : 0
        if (!byLane.has(owner)) byLane.set(owner, [])
        byLane.get(owner)!.push(2 * i + (kind === 'meta' ? 1 : 0))
        this.elsewhere[owner].writer.raw(MEMORY_USAGE).arg(key)
      }
    })
    for (const [owner, slots] of byLane) {
      let at = 0
      const onReply = (r: ReplyCursor) => {
        if (r.type === 0x2d) throw new ReplyError(r.line())
        const slot = slots[at++]
        // An integer, or nil for a key that went since it was read.
        bytes[slot] = r.type === 0x3a ? r.count() : 0
        const i = slot >> 1
        if (--pending[i] === 0) told(asked[i].key, bytes[2 * i], bytes[2 * i + 1])
      }
      const commands = this.elsewhere[owner].writer.take()
      if (owner === scanning) this.scanners[owner].request(commands, slots.length, onReply)
      else this.track(owner, commands, slots.length, onReply)
    }
  }

  /**
   * The end of a batch. Its keys whose series no meta has named (the meta the
   * series' first key named was missing) read their own metas (rare); those
   * still unnamed wait for the end of the walk, since a later key's meta may
   * yet name their series (a worker killed between its metric's HSET and its
   * meta's HSETNX leaves no meta of its own).
   *
   * Each key asks for its own meta even when another pid's meta of the series
   * is on its way: that one may be missing too, and a key that waited on it
   * would never have its own read (every key of such a series ended an orphan
   * when SCAN's order put the pid with the only meta in that spot).
   */
  private finish(batch: Batch): void {
    const waiting = batch.waiting.splice(0)
    const asked = new Set([...batch.metaOf, ...batch.metaElsewhere])
    const {lane} = batch
    this.askMemory(lane)
    this.spareBatches.push(batch)
    const park = () => waiting.forEach((w) => this.settle(w.pid, w.typeIndex, w.series, w, this.entries[w.series].id === undefined ? this.unnamed : undefined))
    const ask = waiting.filter((w) => !asked.has(w.i) && this.entries[w.series].id === undefined)
    if (ask.length === 0) return park()
    // By lane: on a cluster each meta is read where it lives; park() once every answer is in.
    const byLane = new Map<number, Unnamed[]>()
    for (const w of ask) {
      const meta = this.keyOf(w.pid, w.typeIndex, w.series, 'meta')
      const owner = this.route ? this.route(Buffer.from(meta)) : lane
      if (!byLane.has(owner)) byLane.set(owner, [])
      byLane.get(owner)!.push(w)
      writeMetaRead(this.elsewhere[owner].writer, meta, this.o.withCreatedAt)
    }
    let left = ask.length
    for (const [owner, keys] of byLane) {
      let j = 0
      const onReply = (r: ReplyCursor) => {
        this.learn(keys[j++].series, r)
        if (--left === 0) park()
      }
      const commands = this.elsewhere[owner].writer.take()
      if (owner === lane) this.scanners[lane].request(commands, keys.length, onReply)
      else this.track(owner, commands, keys.length, onReply)
    }
  }

  /** Names a series from the reply to its meta's read (writeMetaRead's). */
  private learn(series: number, r: ReplyCursor): void {
    const entry = this.entries[series]
    entry.requested = false
    let originalKey: string | null
    let createdAt = Number.NaN
    if (!this.o.withCreatedAt || r.type === 0x2d) originalKey = metaText(r)
    else if (r.type === 0x2a) {
      r.count()
      originalKey = r.bulk() ? r.text() : null
      if (r.bulk()) createdAt = parsePyFloatBytes(r.buf, r.start, r.end) ?? Number.NaN
    } else {
      originalKey = null
    }
    if (originalKey !== null && entry.id === undefined) {
      entry.id = toIdentity(originalKey, this.o.metricFilter)
      entry.createdAt = createdAt
    }
  }
}

/** The read of a meta: original_key, and with withCreatedAt created_at (learn reads either reply). */
function writeMetaRead(w: CommandWriter, meta: string, withCreatedAt: boolean | undefined): void {
  if (withCreatedAt) w.raw(HMGET_META).arg(meta).raw(HMGET_META_FIELDS)
  else w.raw(HGET).arg(meta).raw(HGET_ORIGINAL_KEY)
}

/** original_key from an HGET reply; null when missing or not a hash. Any other error (MOVED, ASK on a cluster) ends the walk. */
function metaText(r: ReplyCursor): string | null {
  if (r.type === 0x2d) {
    const message = r.line()
    if (!message.startsWith('WRONGTYPE')) throw new ReplyError(message)
    return null
  }
  return r.type === 0x24 && r.bulk() ? r.text() : null
}

/** A PTTL reply: -2 for a key gone; an error (MOVED, ASK on a cluster) ends the walk. */
function pttlOf(r: ReplyCursor): number {
  if (r.type === 0x2d) throw new ReplyError(r.line())
  return r.type === 0x3a ? r.count() : -2
}

/** A metric key's meta sibling, as bytes: `metric` at `kind` becomes `meta`. */
function metaKeyOf(buf: Buffer, start: number, end: number, kind: number): Buffer {
  return Buffer.concat([buf.subarray(start, kind), META, buf.subarray(kind + 'metric'.length, end)])
}

const NO_IDENTITY: SeriesIdentity = {metricName: '', sampleName: '', labels: [], help: ''}

/** A key with every field set, so that every key has one shape and the fold's reads of it stay monomorphic; fillReadKey gives it its values. */
function blankReadKey(): ReadKey {
  return {
    pid: 0,
    type: TYPE_INFOS[0].type,
    mode: TYPE_INFOS[0].mode,
    metricName: '',
    sampleName: '',
    labels: NO_IDENTITY.labels,
    help: '',
    value: 0,
    timestamp: 0,
    series: {},
    identity: NO_IDENTITY,
    updatedAt: Number.NaN,
    pttl: undefined,
    key: undefined,
    createdAt: Number.NaN,
  }
}

/** `k` as the key visited now. */
function fillReadKey(
  k: ReadKey,
  pid: number,
  info: (typeof TYPE_INFOS)[number],
  id: SeriesIdentity,
  f: Fields,
  entry: SeriesEntry,
  pttl: number | undefined,
  key: string | undefined,
): ReadKey {
  k.pid = pid
  k.type = info.type
  k.mode = info.mode
  k.metricName = id.metricName
  k.sampleName = id.sampleName
  k.labels = id.labels
  k.help = id.help
  k.value = f.value
  k.timestamp = f.timestamp
  k.series = entry
  k.identity = id
  k.updatedAt = f.updatedAt
  k.pttl = pttl
  k.key = key
  k.createdAt = entry.createdAt
  return k
}

/** value, timestamp, updated_at from an HMGET reply. */
function readFields(r: ReplyCursor, f: Fields): void {
  f.state = Read.Ok
  f.hasUpdatedAt = false
  if (r.type === 0x2d) {
    const message = r.line()
    if (!message.startsWith('WRONGTYPE')) throw new ReplyError(message)
    f.state = Read.NonHash
    return
  }
  r.count()
  const hasValue = r.bulk()
  const value = hasValue ? parsePyFloatBytes(r.buf, r.start, r.end) : undefined
  const hasTimestamp = r.bulk()
  const timestamp = hasTimestamp ? parsePyFloatBytes(r.buf, r.start, r.end) : undefined
  const hasUpdated = r.bulk()
  const updatedAt = hasUpdated ? parsePyFloatBytes(r.buf, r.start, r.end) : undefined
  f.hasUpdatedAt = updatedAt !== undefined
  f.updatedAt = updatedAt ?? Number.NaN
  if (!hasValue && !hasTimestamp && !hasUpdated) f.state = Read.Gone
  else if (value === undefined || timestamp === undefined) f.state = Read.BadNumber
  else {
    f.value = value
    f.timestamp = timestamp
  }
}
