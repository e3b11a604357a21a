/**
 * The keys under the prefix a batch at a time, for a reader that streams
 * them out (keys to a pipe) and must wait for its consumer: on a read lane,
 * each batch's reads (the PTTL of the keys kept, the original_key of the metas
 * asked for) go in one write together with the next SCAN, so a batch costs
 * one round trip, and no command object or promise per key. Unlike the walks
 * that fold as replies arrive (ChainedScan), nothing is read ahead of the
 * caller but the batch whose reads it has sent: memory stays at two batches
 * however slow the pipe. The caller may take the next batch before the
 * reads of this one are in (it then gets it once they are).
 *
 * On a cluster each master is scanned in turn on its own lane (read-lanes.ts)
 * and a meta's read goes to the lane of the master that owns it (most often
 * another than its metric's): a round trip per batch and master. A cluster
 * that changes under the listing fails it, as it fails the walks.
 *
 * A listing of names alone (keys one per line) has nothing to read:
 * keyNameBatches sends only the SCANs, and copies the names of the schema's
 * keys from the reply's bytes into a buffer per batch.
 */
import {type KeyKind, prefixPattern} from '../metrics/keys.js'
import {scanCursor, writeScan} from '../redis/chained-scan.js'
import type {Connection} from '../redis/cluster.js'
import {type RawLane, ReplyError} from '../redis/lane.js'
import {type ReadLanes, readLanesYielding} from '../redis/read-lanes.js'
import {CommandWriter, encodeArgs, encodeHead, type ReplyCursor} from '../redis/resp.js'
import {Found, HASH_LENGTH, judgeText, kindFound, plainKeyAt} from './key-bytes.js'
import {type ClassifiedBatch, classifyBatch} from './keyspace.js'
import type {ReadOptions} from './read-options.js'
import {DUMP_SCAN_COUNT} from './reader.js'
import {SeriesIndex} from './series-index.js'

export interface BatchReads {
  /** PTTL of each key asked, in order: ms to live, -1 without TTL, -2 gone; undefined when Redis refused it. */
  pttls: (number | undefined)[]
  /** original_key of each meta asked, in order; undefined when it has none (or is not a hash). */
  originalKeys: (string | undefined)[]
}

export interface KeyBatch extends ClassifiedBatch {
  /** Reads these keys' PTTL and these metas' original_key; call it once per batch (with nothing, too): it sends the next SCAN. */
  read(pttlKeys: readonly string[], metaKeys: readonly string[]): Promise<BatchReads>
}

const PTTL = encodeHead(2, 'PTTL')
const HGET = encodeHead(3, 'HGET')
const ORIGINAL_KEY = encodeArgs('original_key')

/** Batches of classified keys under `prefix:` (MATCH `rest` after the escaped prefix), each with its reads. */
export function keyBatches(redis: Connection, o: ReadOptions & {rest?: string}): AsyncGenerator<KeyBatch> {
  const progress = {scanned: 0}
  return readLanesYielding(redis, async function* (lanes) {
    for (let lane = 0; lane < lanes.lanes.length; lane++) yield* laneKeyBatches(lanes, lane, o, progress)
  })
}

/** keyBatches of the keys of one lane's server; `progress` counts the keys scanned on every lane so far. */
async function* laneKeyBatches(lanes: ReadLanes, scanning: number, o: ReadOptions & {rest?: string}, progress: {scanned: number}): AsyncGenerator<KeyBatch> {
  const match = prefixPattern(o.prefix, o.rest ?? '*')
  const count = o.scanCount ?? DUMP_SCAN_COUNT
  const lane = lanes.lanes[scanning]
  const writer = new CommandWriter()
  let cursor = '0'
  let keys: string[] = []
  const scan = () => writeScan(writer, cursor, match, count)
  const onScan = (r: ReplyCursor) => {
    cursor = scanCursor(r)
    keys = new Array<string>(r.count())
    for (let i = 0; i < keys.length; i++) {
      r.bulk()
      keys[i] = r.text()
    }
  }
  scan()
  await lane.request(writer.take(), 1, onScan)
  for (;;) {
    const batch = classifyBatch(keys, o.prefix)
    progress.scanned += keys.length
    o.onProgress?.(progress.scanned)
    const last = cursor === '0'
    /** This batch's reads with the next SCAN, once sent. */
    let sent: Promise<unknown> | undefined
    const read = async (pttlKeys: readonly string[], metaKeys: readonly string[]): Promise<BatchReads> => {
      if (sent) throw new Error('a batch is read once')
      const out: BatchReads = {pttls: [], originalKeys: new Array<string | undefined>(metaKeys.length)}
      // The keys scanned are this lane's own; a meta is read on the lane of the master that owns it.
      const metasByLane = lanes.lanes.map((): number[] => [])
      metaKeys.forEach((k, j) => metasByLane[lanes.lanes.length === 1 ? scanning : lanes.laneOf(Buffer.from(k))].push(j))
      const own = metasByLane[scanning]
      for (const k of pttlKeys) writer.raw(PTTL).arg(k)
      for (const j of own) writer.raw(HGET).arg(metaKeys[j]).raw(ORIGINAL_KEY)
      if (!last) scan()
      let at = 0
      const here = lane.request(writer.take(), pttlKeys.length + own.length + (last ? 0 : 1), (r) => {
        const i = at++
        if (i < pttlKeys.length) out.pttls.push(pttlReply(r))
        else if (i < pttlKeys.length + own.length) out.originalKeys[own[i - pttlKeys.length]] = originalKeyReply(r)
        else onScan(r)
      })
      const elsewhere = metasByLane.map((js, l) => {
        if (l === scanning || js.length === 0) return undefined
        const w = new CommandWriter(1 << 12)
        for (const j of js) w.raw(HGET).arg(metaKeys[j]).raw(ORIGINAL_KEY)
        let k = 0
        return lanes.lanes[l].request(w.take(), js.length, (r) => void (out.originalKeys[js[k++]] = originalKeyReply(r)))
      })
      // A failed read reaches the caller before the walk: said of the master whose lane failed, as the walk says it.
      sent = Promise.all([here, ...elsewhere]).catch((error: unknown) => {
        throw lanes.explain(error)
      })
      await sent
      return out
    }
    yield {...batch, read}
    // The caller may ask for the next batch before this one's reads are in (it prints one batch while
    // the next is read): the next SCAN's reply comes after them, and the lane stays open until they are in.
    if (sent) await sent
    else if (!last) await read([], [])
    if (last) return
  }
}

/**
 * An error reply that is the key's own shows as unknown: a meta of another
 * type (WRONGTYPE), a key the ACL user may not read (NOPERM). Any other (MOVED
 * or ASK: the cluster is changing under the listing; CLUSTERDOWN, LOADING…)
 * ends the listing: a TTL shown as "none" must mean the key has none.
 */
function keysOwnError(r: ReplyCursor): undefined {
  const message = r.line()
  if (!message.startsWith('WRONGTYPE') && !message.startsWith('NOPERM')) throw new ReplyError(message)
  return undefined
}

const pttlReply = (r: ReplyCursor): number | undefined => (r.type === 0x2d ? keysOwnError(r) : r.type === 0x3a ? r.count() : undefined)
const originalKeyReply = (r: ReplyCursor): string | undefined => (r.type === 0x2d ? keysOwnError(r) : r.type === 0x24 && r.bulk() ? r.text() : undefined)

/** One SCAN batch of a listing of names alone (keyNameBatches). */
export interface NameBatch {
  /**
   * The wanted keys of the schema (`{prefix}:{type}:{pid}:{kind}:{md5}`), in
   * SCAN order, each followed by a newline: their bytes as stored. Past the
   * prefix such a name holds only [a-z0-9_:]. The buffer is reused for the
   * batch after next: it holds these names until the caller asks for the next
   * batch, so copy or decode it before.
   */
  schema: Buffer
  /** Where each of those names ends in `schema` (just past its newline). */
  ends: number[]
  /** Keys under the prefix that do not fit the schema. */
  foreign: {key: string; detail: string}[]
  /** Exporter-shaped keys under a longer prefix (another application's): left out, counted. */
  otherPrefix: number
  /** How many keys this SCAN batch returned, kept or not (for progress). */
  scanned: number
}

/** Which keys of the schema a listing keeps, from their parts (an index in TYPE_INFOS, the pid, the kind). */
export type PartsFilter = (typeIndex: number, pid: number, kind: KeyKind) => boolean

/** A names buffer's first size; it grows to the largest batch. */
const FIRST_NAMES_BYTES = 1 << 17

/**
 * The names under `prefix:` a SCAN batch at a time, for a listing that reads
 * nothing else: a key of the schema is judged from its bytes (key-bytes.ts)
 * and copied into the batch's buffer without becoming a string or an object;
 * anything else is judged as text, as keyBatches judges it. The next SCAN goes
 * out as a batch is handed over, so the caller prints one batch while Redis
 * scans the next: memory stays at two batches however slow the caller.
 */
export function keyNameBatches(redis: Connection, o: ReadOptions & {rest?: string; want?: PartsFilter}): AsyncGenerator<NameBatch> {
  return readLanesYielding(redis, async function* (lanes) {
    for (const lane of lanes.lanes) yield* laneNameBatches(lane, o)
  })
}

/** keyNameBatches of the keys of one lane's server. */
async function* laneNameBatches(lane: RawLane, o: ReadOptions & {rest?: string; want?: PartsFilter}): AsyncGenerator<NameBatch> {
  const {prefix, want} = o
  const prefixBytes = Buffer.from(prefix + ':')
  const match = prefixPattern(prefix, o.rest ?? '*')
  const count = o.scanCount ?? DUMP_SCAN_COUNT
  const parts = {typeIndex: 0, pid: 0}
  // Two buffers taken in turn: the batch the caller holds, and the next one, filled as its SCAN reply arrives.
  const buffers = [Buffer.allocUnsafe(FIRST_NAMES_BYTES), Buffer.allocUnsafe(FIRST_NAMES_BYTES)]
  let turn = 0
  const writer = new CommandWriter()
  let cursor = '0'
  let batch: NameBatch | undefined
  const scan = () => lane.request(writeScan(writer, cursor, match, count).take(), 1, onScan)
  const onScan = (r: ReplyCursor) => {
    cursor = scanCursor(r)
    const n = r.count()
    turn ^= 1
    let out = buffers[turn]
    let at = 0
    const ends: number[] = []
    const foreign: NameBatch['foreign'] = []
    let otherPrefix = 0
    for (let i = 0; i < n; i++) {
      r.bulk()
      const {buf, start, end} = r
      let found = plainKeyAt(buf, start, end, prefixBytes, parts)
      if (found === undefined || !SeriesIndex.isHash(buf, end - HASH_LENGTH)) {
        // Not a plain key of ours: judged as text.
        const key = r.text()
        const v = judgeText(key, prefix, parts)
        if (v === undefined) continue
        if (!v.ours) {
          if (v.reason === 'other-prefix') otherPrefix++
          else foreign.push({key, detail: v.detail})
          continue
        }
        found = kindFound(v.parsed.kind)
      }
      if (want && !want(parts.typeIndex, parts.pid, found === Found.Metric ? 'metric' : 'meta')) continue
      if (at + end - start + 1 > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * out.length, at + end - start + 1))
        out.copy(bigger, 0, 0, at)
        out = buffers[turn] = bigger
      }
      // A byte loop: a native copy per short name costs more than the copy.
      for (let p = start; p < end; p++) out[at++] = buf[p]
      out[at++] = 0x0a
      ends.push(at)
    }
    batch = {schema: out.subarray(0, at), ends, foreign, otherPrefix, scanned: n}
  }
  await scan()
  for (;;) {
    const ready = batch!
    // The next SCAN is out while the caller prints this batch; its reply makes the next batch.
    const next = cursor === '0' ? undefined : scan()
    next?.catch(() => undefined)
    yield ready
    if (!next) return
    await next
  }
}
