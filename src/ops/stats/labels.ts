/**
 * Label values that make a label a high-cardinality suspect: values that look
 * like timestamps, ids or measured durations are new on nearly every write,
 * and in this store every new value is a new series (two keys per worker)
 * that lives until its TTL runs out — or forever without one.
 *
 * Pure functions: judged once per distinct value, never per key.
 */

export type ValueKind = 'timestamp' | 'id' | 'duration'

/** The earliest time taken for a timestamp: 2000-01-01, in seconds. */
const EPOCH_FLOOR_S = 946_684_800
/** How far past now a value may lie and still be taken for a time: ten years. */
const FUTURE_S = 10 * 365 * 86_400

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i
const HEX_ID = /^(0x)?[0-9a-f]{12,}$/i
const LONG_DIGITS = /^\d{6,}$/
const EPOCH_NUMBER = /^\d{9,16}(\.\d+)?$/
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/
const DECIMAL = /^[-+]?(\d*\.\d+|\d+\.\d*)(e[-+]?\d+)?$|^[-+]?\d+e[-+]?\d+$/i
const WITH_UNIT = /^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$/

/**
 * What a label value looks like, if it is one of the kinds that grow without
 * bound. A number is a timestamp when, read as seconds, milliseconds or
 * microseconds since the epoch, it falls between 2000 and ten years from
 * `nowSeconds`; an id is a UUID, 12+ hex digits with a letter and a digit, or
 * 6+ digits that are no time; a duration is a number with a fraction or an
 * exponent (`0.0123`, `1.5e-05`), or a number with a time unit (`250ms`).
 */
export function valueKind(value: string, nowSeconds: number): ValueKind | undefined {
  if (EPOCH_NUMBER.test(value)) {
    const n = Number(value)
    for (const scale of [1, 1e3, 1e6]) {
      const s = n / scale
      if (s >= EPOCH_FLOOR_S && s <= nowSeconds + FUTURE_S) return 'timestamp'
    }
  }
  if (ISO_TIME.test(value)) return 'timestamp'
  if (UUID.test(value)) return 'id'
  if (HEX_ID.test(value) && /[a-f]/i.test(value.replace(/^0x/i, '')) && /\d/.test(value)) return 'id'
  if (LONG_DIGITS.test(value)) return 'id'
  if (DECIMAL.test(value) || WITH_UNIT.test(value)) return 'duration'
  return undefined
}

/** Labels whose many numeric values are the format's own: histogram bounds and summary quantiles. */
export const STRUCTURAL_LABELS: ReadonlySet<string> = new Set(['le', 'quantile'])

/** Fewer distinct values than this never make a suspect: a handful of values is not growth. */
export const SUSPECT_MIN_VALUES = 10
/** The share of a label's distinct values that must be of one kind. */
export const SUSPECT_MIN_SHARE = 0.5

const EXAMPLES = 3

/** The distinct values of one label of one family, with how many series carry each. */
export class LabelValues {
  /** value -> series carrying it. */
  readonly series = new Map<string, number>()
  readonly kinds: Record<ValueKind, number> = {timestamp: 0, id: 0, duration: 0}
  /** The first few values of each kind in sorted order, to quote: the same whatever order SCAN gave. */
  readonly examples: Record<ValueKind, string[]> = {timestamp: [], id: [], duration: []}

  add(value: string, nowSeconds: number): void {
    const n = this.series.get(value)
    if (n !== undefined) return void this.series.set(value, n + 1)
    this.series.set(value, 1)
    const kind = valueKind(value, nowSeconds)
    if (kind) {
      this.kinds[kind]++
      const examples = this.examples[kind]
      if (examples.length < EXAMPLES || value < examples[EXAMPLES - 1]) {
        examples.push(value)
        examples.sort()
        examples.length = Math.min(examples.length, EXAMPLES)
      }
    }
  }
}

export interface Suspect {
  metric: string
  label: string
  /** Distinct values of the label in the family. */
  values: number
  kind: ValueKind
  /** The share of those values that look like `kind`. */
  share: number
  examples: string[]
}

/**
 * A label is a high-cardinality suspect when it is not a histogram bound or a
 * quantile, has at least SUSPECT_MIN_VALUES distinct values, and at least
 * SUSPECT_MIN_SHARE of them look like one kind (the most common one).
 */
export function judgeLabel(metric: string, label: string, v: LabelValues): Suspect | undefined {
  if (STRUCTURAL_LABELS.has(label) || v.series.size < SUSPECT_MIN_VALUES) return undefined
  const [kind, count] = (Object.entries(v.kinds) as [ValueKind, number][]).reduce((a, b) => (b[1] > a[1] ? b : a))
  const share = count / v.series.size
  if (share < SUSPECT_MIN_SHARE) return undefined
  return {metric, label, values: v.series.size, kind, share, examples: v.examples[kind]}
}

const KIND_WORDS: Record<ValueKind, string> = {timestamp: 'timestamps', id: 'ids', duration: 'durations or measured values'}

/** The suspect in one line, naming the metric and the label. */
export function describeSuspect(s: Suspect): string {
  const pct = Math.round(100 * s.share)
  const eg = s.examples.map((e) => JSON.stringify(e)).join(', ')
  return `${s.metric}: label "${s.label}" has ${s.values} distinct values, ${pct}% of them look like ${KIND_WORDS[s.kind]} (${eg}): every new value is a new series; drop the label or put the value in the sample`
}
