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
 * On a cluster the keys come from every master's SCAN at once (scanPrefix)
 * and each batch's reads go through the cluster client, which sends each
 * command to its key's master (a meta most often lives on another master than
 * its metric): a round trip per batch and master, not one write on one lane.
 *
 * A listing of names alone (keys one per line) has nothing to read:
 * keyNameBatches sends only the SCANs, and copies the names of the schema's
 * keys from the reply's bytes into a buffer per batch.
 */
import {type KeyKind, prefixPattern, TYPE_INDEX} from '../metrics/keys.js'
import {scanCursor, writeScan} from '../redis/chained-scan.js'
import {type Cluster, type Connection, isCluster} from '../redis/cluster.js'
import {RawLane} from '../redis/lane.js'
import {pipelineReplies} from '../redis/pipeline.js'
import {CommandWriter, encodeArgs, encodeHead, type ReplyCursor} from '../redis/resp.js'
import {Found, HASH_LENGTH, plainKeyAt} from './key-bytes.js'
import {type ClassifiedBatch, classifyBatch, classifyFound, scanPrefix} from './keyspace.js'
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
export async function* keyBatches(redis: Connection, o: ReadOptions & {rest?: string}): AsyncGenerator<KeyBatch> {
  if (isCluster(redis)) {
    yield* clusterKeyBatches(redis, o)
    return
  }
  const match = prefixPattern(o.prefix, o.rest ?? '*')
  const count = o.scanCount ?? DUMP_SCAN_COUNT
  const lane = await RawLane.open(redis)
  try {
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
    let scanned = 0
    for (;;) {
      const batch = classifyBatch(keys, o.prefix)
      scanned += keys.length
      o.onProgress?.(scanned)
      const last = cursor === '0'
      /** This batch's reads with the next SCAN, once sent. */
      let sent: Promise<void> | undefined
      const read = async (pttlKeys: readonly string[], metaKeys: readonly string[]): Promise<BatchReads> => {
        if (sent) throw new Error('a batch is read once')
        for (const k of pttlKeys) writer.raw(PTTL).arg(k)
        for (const k of metaKeys) writer.raw(HGET).arg(k).raw(ORIGINAL_KEY)
        if (!last) scan()
        const out: BatchReads = {pttls: [], originalKeys: []}
        let at = 0
        // Error replies are the key's, not the lane's: an unreadable TTL or a meta of another type shows as unknown.
        sent = lane.request(writer.take(), pttlKeys.length + metaKeys.length + (last ? 0 : 1), (r) => {
          const i = at++
          if (i < pttlKeys.length) out.pttls.push(r.type === 0x3a ? r.count() : undefined)
          else if (i < pttlKeys.length + metaKeys.length) out.originalKeys.push(r.type === 0x24 && r.bulk() ? r.text() : undefined)
          else onScan(r)
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
  } finally {
    lane.close()
  }
}

/** keyBatches on a cluster: every master scanned, each read sent to the master of its key. */
async function* clusterKeyBatches(cluster: Cluster, o: ReadOptions & {rest?: string}): AsyncGenerator<KeyBatch> {
  let scanned = 0
  for await (const batch of scanPrefix(cluster, o.prefix, {rest: o.rest, count: o.scanCount ?? DUMP_SCAN_COUNT})) {
    scanned += batch.ours.length + batch.foreign.length + batch.otherPrefix.length
    o.onProgress?.(scanned)
    let done = false
    const read = async (pttlKeys: readonly string[], metaKeys: readonly string[]): Promise<BatchReads> => {
      if (done) throw new Error('a batch is read once')
      done = true
      const replies = await pipelineReplies(cluster, (p) => {
        for (const k of pttlKeys) p.pttl(k)
        for (const k of metaKeys) p.hget(k, 'original_key')
      })
      // As on one server: a refused PTTL or a meta of another type shows as unknown.
      return {
        pttls: replies.slice(0, pttlKeys.length).map((r) => (r.ok ? Number(r.value) : undefined)),
        originalKeys: replies.slice(pttlKeys.length).map((r) => (r.ok && typeof r.value === 'string' ? r.value : undefined)),
      }
    }
    yield {...batch, read}
  }
}

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
export async function* keyNameBatches(redis: Connection, o: ReadOptions & {rest?: string; want?: PartsFilter}): AsyncGenerator<NameBatch> {
  if (isCluster(redis)) {
    yield* clusterNameBatches(redis, o)
    return
  }
  const {prefix, want} = o
  const prefixBytes = Buffer.from(prefix + ':')
  const match = prefixPattern(prefix, o.rest ?? '*')
  const count = o.scanCount ?? DUMP_SCAN_COUNT
  const parts = {typeIndex: 0, pid: 0}
  // Two buffers taken in turn: the batch the caller holds, and the next one, filled as its SCAN reply arrives.
  const buffers = [Buffer.allocUnsafe(FIRST_NAMES_BYTES), Buffer.allocUnsafe(FIRST_NAMES_BYTES)]
  let turn = 0
  const lane = await RawLane.open(redis)
  try {
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
          const v = classifyFound(key, prefix)
          if (v === undefined) continue
          if (!v.ours) {
            if (v.reason === 'other-prefix') otherPrefix++
            else foreign.push({key, detail: v.detail})
            continue
          }
          found = v.parsed.kind === 'metric' ? Found.Metric : Found.Meta
          parts.typeIndex = TYPE_INDEX.get(v.parsed.typeSegment)!
          parts.pid = v.parsed.pid
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
  } finally {
    lane.close()
  }
}

/** keyNameBatches on a cluster: every master scanned (scanPrefix), names as keyBatches classifies them. */
async function* clusterNameBatches(cluster: Cluster, o: ReadOptions & {rest?: string; want?: PartsFilter}): AsyncGenerator<NameBatch> {
  for await (const batch of scanPrefix(cluster, o.prefix, {rest: o.rest, count: o.scanCount ?? DUMP_SCAN_COUNT})) {
    const lines: string[] = []
    for (const k of batch.ours) if (!o.want || o.want(TYPE_INDEX.get(k.typeSegment)!, k.pid, k.kind)) lines.push(k.key + '\n')
    const schema = Buffer.from(lines.join(''))
    const ends: number[] = []
    let at = 0
    for (const line of lines) ends.push((at += Buffer.byteLength(line)))
    const scanned = batch.ours.length + batch.foreign.length + batch.otherPrefix.length
    yield {schema, ends, foreign: batch.foreign, otherPrefix: batch.otherPrefix.length, scanned}
  }
}
