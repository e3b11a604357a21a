/**
 * The exporter identifies a series by Python's
 * `json.dumps([metric_name, sample_name, labels, help], sort_keys=True)`.
 * Its md5 names the Redis keys, so a writer in TypeScript must produce the
 * same text to the byte: `", "` and `": "` separators, keys sorted by code
 * point, and everything outside printable ASCII escaped as `\uXXXX`
 * (UTF-16 units, so characters above U+FFFF become surrogate pairs).
 */
import {createHash} from 'node:crypto'

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}

/** Python `json.dumps(str)` with `ensure_ascii=True`. */
export function pyJsonString(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]
    const code = s.charCodeAt(i)
    const short = SHORT_ESCAPES[ch]
    if (short !== undefined) out += short
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + '"'
}

/** Compares by Unicode code point, as Python sorts str (JS's default sort compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/** A character whose UTF-16 order may differ from its code-point order (see sortByCodePoint). */
export const ABOVE_SURROGATES = /[\ud800-\uffff]/

/**
 * Sorts by a string key in code-point order. When no key holds a surrogate or
 * a character above it — nearly always — the engine's native comparison gives
 * the same order, many times faster.
 */
export function sortByCodePoint<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const keyed = items.map((item) => ({item, key: keyOf(item)}))
  if (keyed.some((k) => ABOVE_SURROGATES.test(k.key))) keyed.sort((a, b) => compareCodePoints(a.key, b.key))
  else keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return keyed.map((k) => k.item)
}

/**
 * UTF-16 units reordered so surrogates (code points above U+FFFF) sort after
 * U+E000–U+FFFF, as the code points they encode do.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xd8_00 && unit <= 0xdf_ff) return unit + 0x20_00
  if (unit >= 0xe0_00) return unit - 0x8_00
  return unit
}

export type Labels = Record<string, string>

/** The exporter's `redis_key(...)`: the series identity stored as `original_key`. */
export function originalKey(metricName: string, sampleName: string, labels: Labels, help: string): string {
  const names = Object.keys(labels).sort(compareCodePoints)
  const labelText = names.map((n) => `${pyJsonString(n)}: ${pyJsonString(labels[n])}`).join(', ')
  return `[${pyJsonString(metricName)}, ${pyJsonString(sampleName)}, {${labelText}}, ${pyJsonString(help)}]`
}

/** Lowercase hex MD5 of the UTF-8 text: the last segment of every key of a series. */
export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex')
}

export interface SeriesIdentity {
  metricName: string
  sampleName: string
  labels: Labels
  help: string
}

/**
 * Reads an `original_key` back. Returns undefined for anything that is not the
 * four-element shape the exporter writes (foreign data, never a crash).
 */
export function parseOriginalKey(text: string): SeriesIdentity | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) return undefined
  const [metricName, sampleName, labels, help] = parsed as unknown[]
  if (typeof metricName !== 'string' || typeof sampleName !== 'string' || typeof help !== 'string') return undefined
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return undefined
  const entries = Object.entries(labels as Record<string, unknown>)
  if (!entries.every(([, v]) => typeof v === 'string')) return undefined
  return {metricName, sampleName, labels: Object.fromEntries(entries) as Labels, help}
}
