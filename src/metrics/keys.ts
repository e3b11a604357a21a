/**
 * The key schema: `{prefix}:{type}:{pid}:{metric|meta}:{md5}`.
 *
 * Keys are parsed from the right, because a prefix may itself contain `:`
 * (`app:metrics`). A key is ours only when what is left of the last four
 * segments equals the configured prefix exactly; `gunicorn:shadow:counter:…`
 * belongs to another application that happens to share the first segment.
 */

export const GAUGE_MODES = ['all', 'liveall', 'livesum', 'sum', 'max', 'livemax', 'min', 'livemin', 'mostrecent', 'livemostrecent'] as const
export type GaugeMode = (typeof GAUGE_MODES)[number]

export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary'] as const
export type MetricType = (typeof METRIC_TYPES)[number]

export type KeyKind = 'metric' | 'meta'
export const KEY_KINDS: readonly KeyKind[] = ['metric', 'meta']

export interface ParsedKey {
  key: string
  /** The type segment as stored: `counter`, `gauge_livesum`, bare `gauge`, … */
  typeSegment: string
  type: MetricType
  /** Gauge mode; undefined for other types and for bare-`gauge` artifacts. */
  mode?: GaugeMode
  /** A bare `gauge` key: the exporter's zero-valued init twin of a live gauge. Never aggregated. */
  artifact: boolean
  pid: number
  kind: KeyKind
  hash: string
}

export type KeyVerdict = {ours: true; parsed: ParsedKey} | {ours: false; reason: 'other-prefix'} | {ours: false; reason: 'malformed'; detail: string}

const HASH = /^[0-9a-f]{32}$/
const PID = /^[1-9]\d{0,9}$/

export function isLiveMode(mode: GaugeMode): boolean {
  return mode.startsWith('live')
}

export type TypeInfo = Pick<ParsedKey, 'type' | 'mode' | 'artifact'> & {segment: string}

/** Every valid type segment, in a fixed order: a type's index in it is a small number for per-key tables. */
export const TYPE_INFOS: readonly TypeInfo[] = [
  {segment: 'counter', type: 'counter', artifact: false},
  {segment: 'histogram', type: 'histogram', artifact: false},
  {segment: 'summary', type: 'summary', artifact: false},
  {segment: 'gauge', type: 'gauge', artifact: true},
  ...GAUGE_MODES.map((mode): TypeInfo => ({segment: `gauge_${mode}`, type: 'gauge', mode, artifact: false})),
]

/** Type segment -> index in TYPE_INFOS, looked up once per key instead of parsed. */
export const TYPE_INDEX = new Map(TYPE_INFOS.map((info, i) => [info.segment, i]))

/**
 * Classifies one key found under `prefix:`. A schema-shaped key under a longer
 * prefix that starts with ours (`gunicorn:shadow:…`) is `other-prefix`: another
 * application's data. Anything else under our prefix that does not fit the
 * schema is `malformed`: foreign data, counted and reported, never deleted unasked.
 */
export function classifyKey(key: string, prefix: string): KeyVerdict {
  // Four separators from the right: {prefix}:{type}:{pid}:{kind}:{hash}
  const h = key.lastIndexOf(':')
  const k = h > 0 ? key.lastIndexOf(':', h - 1) : -1
  const p = k > 0 ? key.lastIndexOf(':', k - 1) : -1
  const t = p > 0 ? key.lastIndexOf(':', p - 1) : -1
  if (t <= 0) return {ours: false, reason: 'malformed', detail: 'too few segments'}
  const typeSeg = key.slice(t + 1, p)
  const pidSeg = key.slice(p + 1, k)
  const kindSeg = key.slice(k + 1, h)
  const hash = key.slice(h + 1)
  const index = TYPE_INDEX.get(typeSeg)
  const info = index === undefined ? undefined : TYPE_INFOS[index]
  const problem = info ? schemaProblem(pidSeg, kindSeg, hash) : `unknown type "${typeSeg}"`
  if (problem) return {ours: false, reason: 'malformed', detail: problem}
  if (t !== prefix.length || !key.startsWith(prefix)) {
    const keyPrefix = key.slice(0, t)
    return keyPrefix.startsWith(prefix + ':')
      ? {ours: false, reason: 'other-prefix'}
      : {ours: false, reason: 'malformed', detail: `prefix "${keyPrefix}" is not "${prefix}"`}
  }
  const parsed: ParsedKey = {key, typeSegment: typeSeg, type: info!.type, artifact: info!.artifact, pid: Number(pidSeg), kind: kindSeg as KeyKind, hash}
  if (info!.mode) parsed.mode = info!.mode
  return {ours: true, parsed}
}

function schemaProblem(pidSeg: string, kindSeg: string, hash: string): string | undefined {
  if (!PID.test(pidSeg)) return `pid "${pidSeg}" is not a process id`
  if (kindSeg !== 'metric' && kindSeg !== 'meta') return `"${kindSeg}" is neither metric nor meta`
  if (!HASH.test(hash)) return 'hash is not 32 lowercase hex digits'
  return undefined
}

/** The type segment the exporter writes for a metric type and gauge mode. */
export function typeSegment(type: MetricType, mode?: GaugeMode | ''): string {
  return type === 'gauge' && mode ? `gauge_${mode}` : type
}

export function formatKey(prefix: string, typeSeg: string, pid: number, kind: KeyKind, hash: string): string {
  return `${prefix}:${typeSeg}:${pid}:${kind}:${hash}`
}

/** The meta key that describes a metric key (and vice versa). */
export function siblingKey(parsed: ParsedKey, kind: KeyKind): string {
  return parsed.key.slice(0, parsed.key.length - parsed.hash.length - parsed.kind.length - 1) + `${kind}:${parsed.hash}`
}

/** Escapes Redis glob characters so a literal prefix or pid can go into a SCAN MATCH pattern. */
export function escapeGlob(literal: string): string {
  return literal.replaceAll(/[\\*?[\]^]/g, (c) => '\\' + c)
}

/** The MATCH pattern for every key that may be ours (and nested prefixes, filtered after). */
export function prefixPattern(prefix: string, rest = '*'): string {
  return `${escapeGlob(prefix)}:${rest}`
}
