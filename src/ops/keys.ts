/**
 * `keys`: the keys under the prefix with their parsed parts, filtered, with
 * TTLs and (optionally) the metric each one belongs to. One round trip per SCAN
 * batch on a read lane (engine/key-batches.ts); each distinct hash's meta is read once.
 * A listing of names alone (streamKeyNames) reads nothing per key: SCAN itself
 * leaves out expired keys, and a key deleted after SCAN saw it could as well
 * be deleted just after its name was printed, so a PTTL per key would buy nothing.
 */
import {escapeGlob, type GaugeMode, type KeyKind, type MetricType, TYPE_INFOS} from '../metrics/keys.js'
import {parseOriginalKey} from '../metrics/pyjson.js'
import type {Connection} from '../redis/cluster.js'
import {DEFAULT_SCAN_COUNT} from '../redis/scan.js'
import {ttlSeconds} from '../redis/time.js'
import {type BatchReads, keyBatches, keyNameBatches} from '../engine/key-batches.js'
import type {ReadOptions} from '../engine/read-options.js'

export interface KeyRow {
  key: string
  /** `foreign` for keys under the prefix that do not fit the schema. */
  kind: KeyKind | 'foreign'
  type?: MetricType
  mode?: GaugeMode
  artifact: boolean
  pid?: number
  hash?: string
  /** Seconds to live; null when the key never expires. */
  ttl: number | null
  metric?: string
  sample?: string
  detail?: string
}

/** No onProgress: keys tells no progress (its rows come out as they are found). */
export interface KeysOptions extends ReadOptions {
  /** Glob for the part after `{prefix}:`; the prefix itself is matched literally. */
  pattern?: string
  type?: MetricType
  mode?: GaugeMode
  pid?: number
  kind?: KeyKind
  limit?: number
  resolve?: boolean
  /** Include keys under the prefix that are not exporter data (default true). */
  includeForeign?: boolean
  /**
   * Past `limit`, keep scanning to count the matching keys (names only: no
   * reads but the next SCAN), for "showing 1,000 of 81,920".
   */
  countAll?: boolean
}

export interface KeysResult {
  keys: KeyRow[]
  /** True when --limit stopped the listing early. */
  truncated: boolean
  /** Keys of another application under a nested prefix, left out. */
  otherPrefixSkipped: number
  /** With `countAll`: how many keys matched in all (those listed included). */
  total?: number
}

/** Whether a filter on the parts of a key (type, mode, pid, kind) is asked. */
function partsFiltered(o: KeysOptions): boolean {
  return Boolean(o.type || o.mode || o.pid !== undefined || o.kind)
}

/** Whether keys outside the schema (foreign) are listed: only when no filter on the parts is asked. */
function foreignWanted(o: KeysOptions): boolean {
  return o.includeForeign !== false && !partsFiltered(o)
}

/** Whether a key of the schema passes the filters. */
function partsWanted(k: Pick<KeyRow, 'type' | 'mode' | 'pid' | 'kind'>, o: KeysOptions): boolean {
  if (o.type && k.type !== o.type) return false
  if (o.mode && k.mode !== o.mode) return false
  if (o.pid !== undefined && k.pid !== o.pid) return false
  if (o.kind && k.kind !== o.kind) return false
  return true
}

function wanted(row: KeyRow, o: KeysOptions): boolean {
  return row.kind === 'foreign' ? foreignWanted(o) : partsWanted(row, o)
}

/** The SCAN MATCH after `{prefix}:`: the pattern, or with --pid alone one that SCAN can filter on. */
function scanRest(o: KeysOptions): string {
  return o.pattern ?? (o.pid === undefined ? '*' : `*:${escapeGlob(String(o.pid))}:*`)
}

/**
 * The keys, sorted, all in memory: for tables and JSON. For a pipe, use
 * streamKeys, whose memory stays at one batch however many keys there are.
 */
export async function listKeys(redis: Connection, o: KeysOptions): Promise<KeysResult> {
  const rows: KeyRow[] = []
  const {truncated, otherPrefixSkipped, total} = await streamKeys(redis, o, async (batch) => void rows.push(...batch))
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return {keys: rows, truncated, otherPrefixSkipped, ...(total === undefined ? {} : {total})}
}

/**
 * The keys in SCAN order, one batch at a time, to `onBatch` (awaited: it can
 * wait for a slow pipe). Without a limit, a batch is handed over once the
 * next batch's reads are out, so the caller prints while Redis reads; with
 * one, a batch's page depends on how many keys the one before kept, so each
 * batch is handed over before the next is read.
 */
export async function streamKeys(
  redis: Connection,
  o: KeysOptions,
  onBatch: (rows: KeyRow[]) => Promise<void>,
): Promise<Omit<KeysResult, 'keys'> & {count: number}> {
  const rest = scanRest(o)
  const names = new Map<string, {metric: string; sample: string} | null>()
  /** Hashes whose meta was asked for (names has them once the answer is in). */
  const asked = new Set<string>()
  let count = 0
  let otherPrefixSkipped = 0
  let scanned = 0
  let beyond = 0
  const limit = o.limit ?? Infinity
  const depth = limit === Infinity ? 2 : 1
  /** Batches whose reads are out, oldest first. */
  const pending: {page: KeyRow[]; candidates: number; metaLookups: {hash: string}[]; reading: Promise<BatchReads>}[] = []
  /** The oldest batch's reads are in: its rows (keys gone since SCAN left out) go to onBatch. */
  const settle = async () => {
    const {page, candidates, metaLookups, reading} = pending.shift()!
    const {pttls, originalKeys} = await reading
    metaLookups.forEach((m, i) => {
      const text = originalKeys[i]
      const id = text === undefined ? undefined : parseOriginalKey(text)
      names.set(m.hash, id ? {metric: id.metricName, sample: id.sampleName} : null)
    })
    const rows: KeyRow[] = []
    page.forEach((r, i) => {
      const pttl = pttls[i]
      if (pttl === -2) return // gone since SCAN saw it
      r.ttl = ttlSeconds(pttl)
      const name = r.hash ? names.get(r.hash) : undefined
      if (name) Object.assign(r, name)
      rows.push(r)
    })
    count += rows.length
    beyond += candidates - page.length
    if (rows.length > 0) await onBatch(rows)
  }

  // SCAN's default COUNT, as before the lane: a batch is what a pipe waits for, and --limit stops after one.
  for await (const batch of keyBatches(redis, {prefix: o.prefix, rest, scanCount: o.scanCount ?? DEFAULT_SCAN_COUNT})) {
    otherPrefixSkipped += batch.otherPrefix.length
    scanned += batch.ours.length + batch.foreign.length + batch.otherPrefix.length
    o.onProgress?.(scanned)
    if (count >= limit) {
      // Counting only, past the limit: the names say whether a key matches.
      for (const k of batch.ours) if (wanted({key: k.key, kind: k.kind, type: k.type, mode: k.mode, artifact: k.artifact, pid: k.pid, ttl: null}, o)) beyond++
      for (const f of batch.foreign) if (wanted({key: f.key, kind: 'foreign', artifact: false, ttl: null}, o)) beyond++
      continue
    }
    const candidates: KeyRow[] = [
      ...batch.ours.map((k) => ({key: k.key, kind: k.kind, type: k.type, mode: k.mode, artifact: k.artifact, pid: k.pid, hash: k.hash, ttl: null})),
      ...batch.foreign.map((f) => ({key: f.key, kind: 'foreign' as const, artifact: false, ttl: null, detail: f.detail})),
    ].filter((r) => wanted(r, o))
    const page = candidates.slice(0, limit - count)
    const metaLookups = o.resolve ? unresolvedMetas(page, asked) : []
    const reading = batch.read(
      page.map((r) => r.key),
      metaLookups.map((m) => m.metaKey),
    )
    // Awaited in settle(): a failure meanwhile must not be an unhandled rejection.
    reading.catch(() => undefined)
    pending.push({page, candidates: candidates.length, metaLookups, reading})
    if (pending.length >= depth) await settle()
    if (count >= limit && !o.countAll) return {count, truncated: true, otherPrefixSkipped}
  }
  while (pending.length > 0) await settle()
  if (o.countAll) return {count, truncated: beyond > 0, otherPrefixSkipped, total: count + beyond}
  return {count, truncated: false, otherPrefixSkipped}
}

/** A batch of names from streamKeyNames. */
export interface KeyNames {
  /**
   * The exporter's keys listed, each followed by a newline, as stored: past
   * the prefix, such a name holds only [a-z0-9_:], so it is as safe to print
   * as the prefix is.
   */
  schema: string
  /** How many names `schema` holds. */
  schemaCount: number
  /** Keys under the prefix outside the schema, listed (only without filters on the parts). */
  foreign: string[]
}

/**
 * The names of the keys `streamKeys` would list, in SCAN order, one batch at
 * a time to `onNames` (awaited: it can wait for a slow pipe), for output that
 * shows names and nothing else (one key per line). Nothing is read per key,
 * not even a PTTL: the only request is SCAN. A key of the schema becomes no
 * string or row of its own: a batch's names are judged from the reply's bytes
 * (engine/key-batches.ts keyNameBatches) and handed over as one string.
 * Memory stays at two batches however slow the reader.
 */
export async function streamKeyNames(
  redis: Connection,
  o: Omit<KeysOptions, 'resolve' | 'countAll'>,
  onNames: (names: KeyNames) => Promise<void>,
): Promise<{count: number; truncated: boolean; otherPrefixSkipped: number}> {
  let count = 0
  let otherPrefixSkipped = 0
  const limit = o.limit ?? Infinity
  const foreign = foreignWanted(o)
  const want = partsFiltered(o) ? (typeIndex: number, pid: number, kind: KeyKind) => partsWanted({...TYPE_INFOS[typeIndex], pid, kind}, o) : undefined
  const batches = keyNameBatches(redis, {prefix: o.prefix, rest: scanRest(o), scanCount: o.scanCount ?? DEFAULT_SCAN_COUNT, want})
  let scanned = 0
  for await (const batch of batches) {
    otherPrefixSkipped += batch.otherPrefix
    scanned += batch.scanned
    o.onProgress?.(scanned)
    let {ends} = batch
    let others = foreign ? batch.foreign.map((f) => f.key) : []
    if (ends.length + others.length > limit - count) {
      // --limit reached in this batch: the first names, as they came (the schema's first, as in streamKeys).
      const room = limit - count
      if (ends.length > room) ends = ends.slice(0, room)
      others = others.slice(0, room - ends.length)
    }
    count += ends.length + others.length
    // One string per batch, decoded before the next batch reuses the bytes: the garbage of a batch is V8's, collected young.
    const schema = batch.schema.toString('utf8', 0, ends.at(-1) ?? 0)
    if (ends.length + others.length > 0) await onNames({schema, schemaCount: ends.length, foreign: others})
    if (count >= limit) return {count, truncated: true, otherPrefixSkipped}
  }
  return {count, truncated: false, otherPrefixSkipped}
}

/** One meta key per hash not looked up yet; metric keys map to their sibling meta. */
function unresolvedMetas(rows: KeyRow[], asked: Set<string>): {hash: string; metaKey: string}[] {
  const out: {hash: string; metaKey: string}[] = []
  for (const r of rows) {
    if (!r.hash || asked.has(r.hash)) continue
    asked.add(r.hash)
    out.push({hash: r.hash, metaKey: r.key.replace(/:metric:([0-9a-f]{32})$/, ':meta:$1')})
  }
  return out
}
