/**
 * `keys`: the keys under the prefix with their parsed parts, filtered, with
 * TTLs and (optionally) the metric each one belongs to. One pipeline per SCAN
 * batch; each distinct hash's meta is read once.
 */
import {type GaugeMode, type KeyKind, type MetricType, escapeGlob} from '../metrics/keys.js'
import {parseOriginalKey} from '../metrics/pyjson.js'
import type {Connection} from '../redis/cluster.js'
import {pipelineReplies} from '../redis/pipeline.js'
import {scanPrefix} from '../storage/keyspace.js'

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

export interface KeysOptions {
  prefix: string
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
  scanCount?: number
}

export interface KeysResult {
  keys: KeyRow[]
  /** True when --limit stopped the listing early. */
  truncated: boolean
  /** Keys of another application under a nested prefix, left out. */
  otherPrefixSkipped: number
}

function wanted(row: KeyRow, o: KeysOptions): boolean {
  if (row.kind === 'foreign') return o.includeForeign !== false && !o.type && !o.mode && o.pid === undefined && !o.kind
  if (o.type && row.type !== o.type) return false
  if (o.mode && row.mode !== o.mode) return false
  if (o.pid !== undefined && row.pid !== o.pid) return false
  if (o.kind && row.kind !== o.kind) return false
  return true
}

/**
 * The keys, sorted, all in memory: for tables and JSON. For a pipe, use
 * streamKeys, whose memory stays at one batch however many keys there are.
 */
export async function listKeys(redis: Connection, o: KeysOptions): Promise<KeysResult> {
  const rows: KeyRow[] = []
  const {truncated, otherPrefixSkipped} = await streamKeys(redis, o, async (batch) => void rows.push(...batch))
  if (!truncated) rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return {keys: rows, truncated, otherPrefixSkipped}
}

/** The keys in SCAN order, one batch at a time, to `onBatch` (awaited: it can wait for a slow pipe). */
export async function streamKeys(
  redis: Connection,
  o: KeysOptions,
  onBatch: (rows: KeyRow[]) => Promise<void>,
): Promise<Omit<KeysResult, 'keys'> & {count: number}> {
  const rest = o.pattern ?? (o.pid === undefined ? '*' : `*:${escapeGlob(String(o.pid))}:*`)
  const names = new Map<string, {metric: string; sample: string} | null>()
  let count = 0
  let otherPrefixSkipped = 0
  const limit = o.limit ?? Infinity

  for await (const batch of scanPrefix(redis, o.prefix, {rest, count: o.scanCount})) {
    otherPrefixSkipped += batch.otherPrefix.length
    const candidates: KeyRow[] = [
      ...batch.ours.map((k) => ({key: k.key, kind: k.kind, type: k.type, mode: k.mode, artifact: k.artifact, pid: k.pid, hash: k.hash, ttl: null})),
      ...batch.foreign.map((f) => ({key: f.key, kind: 'foreign' as const, artifact: false, ttl: null, detail: f.detail})),
    ].filter((r) => wanted(r, o))
    const page = candidates.slice(0, limit - count)
    const metaLookups = o.resolve ? unresolvedMetas(page, names) : []
    const replies = await pipelineReplies(redis, (p) => {
      for (const r of page) p.pttl(r.key)
      for (const m of metaLookups) p.hget(m.metaKey, 'original_key')
    })
    metaLookups.forEach((m, i) => {
      const reply = replies[page.length + i]
      const id = reply.ok && typeof reply.value === 'string' ? parseOriginalKey(reply.value) : undefined
      names.set(m.hash, id ? {metric: id.metricName, sample: id.sampleName} : null)
    })
    const rows: KeyRow[] = []
    page.forEach((r, i) => {
      const ttl = replies[i]
      if (ttl.ok && ttl.value === -2) return // gone since SCAN saw it
      r.ttl = ttl.ok && Number(ttl.value) >= 0 ? Math.ceil(Number(ttl.value) / 1000) : null
      const name = r.hash ? names.get(r.hash) : undefined
      if (name) Object.assign(r, name)
      rows.push(r)
    })
    count += rows.length
    if (rows.length > 0) await onBatch(rows)
    if (count >= limit) return {count, truncated: true, otherPrefixSkipped}
  }
  return {count, truncated: false, otherPrefixSkipped}
}

/** One meta key per hash not looked up yet; metric keys map to their sibling meta. */
function unresolvedMetas(rows: KeyRow[], names: Map<string, unknown>): {hash: string; metaKey: string}[] {
  const seen = new Set<string>()
  const out: {hash: string; metaKey: string}[] = []
  for (const r of rows) {
    if (!r.hash || names.has(r.hash) || seen.has(r.hash)) continue
    seen.add(r.hash)
    out.push({hash: r.hash, metaKey: r.key.replace(/:metric:([0-9a-f]{32})$/, ':meta:$1')})
  }
  return out
}
