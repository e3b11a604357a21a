/**
 * Aggregation exactly as prometheus_client's MultiProcessCollector does it,
 * streamed: samples arrive in SCAN order, one per (pid, series), and memory
 * holds one accumulator per output sample, never the keys.
 *
 * Where the reference depends on its (arbitrary) file order — float rounding
 * in sums, NaN and ±0 in min/max, timestamp ties in mostrecent — we fix the
 * order to ascending pid, so the result never depends on SCAN order.
 */
import {GAUGE_MODES, type GaugeMode, isLiveMode, type MetricType} from './keys.js'
import {ExactSum} from './exactsum.js'
import {floatToGoString, parsePyFloat} from './pyfloat.js'
import {ABOVE_SURROGATES, compareCodePoints} from './pyjson.js'

export type LabelPairs = [string, string][]

export interface Sample {
  name: string
  labels: LabelPairs
  value: number
}

export interface MetricFamily {
  name: string
  type: MetricType
  help: string
  /** The multiprocess mode gauges were folded with. */
  mode?: GaugeMode
  samples: Sample[]
}

/** One stored value of one worker, with its series identity already resolved. */
export interface StoredSample {
  pid: number
  type: MetricType
  mode?: GaugeMode
  metricName: string
  sampleName: string
  /** Sorted by name (code point), as prometheus_client's labels_key. */
  labels: LabelPairs
  help: string
  value: number
  timestamp: number
  /**
   * Optional: one object shared by every sample of this series (the reader's
   * entry). The aggregator caches its per-series work there; without it, on
   * the labels array.
   */
  series?: SeriesSlot
}

/** Where fold() keeps what it worked out about a series, on an object every sample of the series shares. */
export interface SeriesSlot {
  folded?: {owner: object}
}

export interface AggregateOptions {
  /** Fold every gauge with this mode instead of its stored one (`dump --mode`). */
  modeOverride?: GaugeMode
  /** Which pids count as live for the live* modes; all of them when absent. */
  isLive?: (pid: number) => boolean
  /** No folding across pids: every sample keeps a `pid` label. */
  raw?: boolean
}

export type RejectReason = 'bad-le' | 'type-conflict' | 'bad-name'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
export const isValidMetricName = (name: string) => METRIC_NAME.test(name)
/** prometheus_client's METRIC_LABEL_NAME_RE. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
export const isValidLabelName = (name: string) => LABEL_NAME.test(name)

/**
 * The sample names a family of each type holds, after the metric name, in a
 * multiprocess store. A sample named otherwise (a gauge `foo` with a sample
 * `foo_bar`, or `forged_metric`) would read in the exposition as a family of
 * its own, without HELP or TYPE, and promtool rejects the dump.
 */
const SAMPLE_SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: ['_total'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum'],
  summary: ['', '_count', '_sum'],
}

function sampleFitsFamily(type: MetricType, metricName: string, sampleName: string): boolean {
  return sampleName.startsWith(metricName) && SAMPLE_SUFFIXES[type].includes(sampleName.slice(metricName.length))
}

/** prometheus_client's fold for one output sample, made independent of arrival order. */
interface Accumulator {
  add(value: number, pid: number, timestamp: number): void
  /** undefined: no sample (mostrecent with no timestamp ever set). */
  result(): number | undefined
}

/** An ExactSum itself: one object less to reach per sample. */
class SumAcc extends ExactSum implements Accumulator {
  result(): number {
    return this.value()
  }
}

/** max/min as `setdefault(first)` then `if value > current` in ascending pid order. */
class ExtremeAcc implements Accumulator {
  private firstPid = Infinity
  private firstValue = 0
  private bestPid = Infinity
  private best = Number.NaN
  constructor(private readonly better: (a: number, b: number) => boolean) {}
  add(value: number, pid: number): void {
    if (pid < this.firstPid) {
      this.firstPid = pid
      this.firstValue = value
    }
    if (Number.isNaN(value)) return
    if (Number.isNaN(this.best) || this.better(value, this.best) || (value === this.best && pid < this.bestPid)) {
      this.best = value
      this.bestPid = pid
    }
  }
  result(): number {
    return Number.isNaN(this.firstValue) ? Number.NaN : this.best
  }
}

/** mostrecent: the value with the newest timestamp; 0 or unset timestamps never win. */
class MostRecentAcc implements Accumulator {
  private ts = 0
  private pid = Infinity
  private value: number | undefined
  add(value: number, pid: number, timestamp: number): void {
    const t = timestamp || 0
    if (t > this.ts || (t === this.ts && this.value !== undefined && pid < this.pid)) {
      this.ts = t
      this.pid = pid
      this.value = value
    }
  }
  result(): number | undefined {
    return this.value
  }
}

/** all/liveall: one sample per pid; a repeat of the same (pid, series) replaces it. */
class LastAcc implements Accumulator {
  private value = 0
  add(value: number): void {
    this.value = value
  }
  result(): number {
    return this.value
  }
}

function accumulatorFor(type: MetricType, mode: GaugeMode | undefined): Accumulator {
  if (type !== 'gauge') return new SumAcc()
  switch (mode) {
    case 'min':
    case 'livemin':
      return new ExtremeAcc((a, b) => a < b)
    case 'max':
    case 'livemax':
      return new ExtremeAcc((a, b) => a > b)
    case 'sum':
    case 'livesum':
      return new SumAcc()
    case 'mostrecent':
    case 'livemostrecent':
      return new MostRecentAcc()
    default:
      return new LastAcc()
  }
}

interface FamilyState {
  name: string
  type: MetricType
  mode?: GaugeMode
  help: string
  /** sample name + labels -> accumulator */
  samples: Map<string, {name: string; labels: LabelPairs; acc: Accumulator}>
  /** histogram labels (without le) -> le -> summed bucket */
  buckets: Map<string, BucketGroup>
}

/**
 * One histogram label set's bucket sums, by bound in first-seen order: two
 * short arrays, where a Map took ~400 bytes even for one bucket (a
 * million-key dump kept 18,750). Bounds are told apart as a Map's keys are
 * (NaN is one bound, -0 is 0).
 */
interface BucketGroup {
  labels: LabelPairs
  les: number[]
  sums: ExactSum[]
}

const sameBound = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b))

interface PreparedSeries {
  /** The aggregator that worked this out (a caller's series object may meet several). */
  owner: Aggregator
  sampleName: string
  /** sample name + labels, the accumulator key */
  key: string
  /** Histogram buckets: the numeric bound (undefined when `le` is not a number) and the labels without `le`. */
  bucket?: {bound: number | undefined; group: LabelPairs; groupKey: string}
  /** The family this series folds into, and under which type key it was found. */
  typeKey?: string
  fam?: FamilyState
  /** Where every pid of the series folds (its sample's accumulator or bucket sum), once known, when pids fold into one sample. */
  acc?: Pick<Accumulator, 'add'>
  /** The same per pid, when each pid keeps a sample of its own (all, liveall, raw). */
  byPid?: Map<number, Pick<Accumulator, 'add'>>
}

const SEP = '\u0000'
/** Family keys of gauges by mode, made once: a template string per sample showed in profiles. */
const GAUGE_TYPE_KEY = Object.fromEntries(GAUGE_MODES.map((m) => [m, `gauge_${m}`])) as Record<GaugeMode, string>
/** Ends the sample name in an accumulator key: what follows is the labels' key. */
const NAME_END = SEP + SEP + SEP
const pidSuffix = (pid: number) => SEP + SEP + 'pid' + SEP + pid
/**
 * An output sample's labels. A copy when the input labels array carries the
 * fold cache (a sample without `series`, see prepare); otherwise, without a
 * pid, the series' own array, shared: nothing downstream changes labels.
 */
const withPid = (labels: LabelPairs, pidPair: [string, string] | undefined, cachedOn: unknown): LabelPairs =>
  pidPair ? [...labels, pidPair] : cachedOn === labels ? [...labels] : labels
const labelsKey = (labels: LabelPairs) => labels.map(([n, v]) => n + SEP + v).join(SEP + SEP)

export class Aggregator {
  /** name -> type key (`counter`, `gauge_max`, …) -> family; conflicts resolved at the end. */
  private readonly families = new Map<string, Map<string, FamilyState>>()
  /** live-mode gauge samples wait until liveness is known. */
  private readonly pendingLive: StoredSample[] = []
  readonly rejected: Record<RejectReason, number> = {'bad-le': 0, 'type-conflict': 0, 'bad-name': 0}
  /**
   * Each pid's `pid` label pair, one array shared by all its samples that keep
   * a pid: a million-key dump kept 50,000 of them, a pair and a string apiece.
   */
  private readonly pidPairs = new Map<number, [string, string]>()

  constructor(private readonly options: AggregateOptions = {}) {}

  /** Folds one sample; nothing of `s` itself is kept past the call (a caller may fill the same object again). */
  add(s: StoredSample): void {
    const mode = s.type === 'gauge' ? (this.options.modeOverride ?? s.mode) : undefined
    if (this.options.isLive && mode && isLiveMode(mode) && !this.options.raw) {
      this.pendingLive.push({...s})
      return
    }
    this.fold(s, mode)
  }

  private fold(s: StoredSample, mode: GaugeMode | undefined): void {
    const {raw} = this.options
    const typeKey = s.type === 'gauge' && !raw ? (mode ? GAUGE_TYPE_KEY[mode] : 'gauge') : s.type
    const series = this.prepare(s)
    const keepsPid = raw || (s.type === 'gauge' && (mode === 'all' || mode === 'liveall' || mode === undefined))
    // The common cases first: the accumulator this series' pids fold into, or this pid's own, found before.
    if (series.typeKey === typeKey) {
      const acc = keepsPid ? series.byPid?.get(s.pid) : series.acc
      if (acc) return acc.add(s.value, s.pid, s.timestamp)
    } else {
      // First sample of this series (or a pid that stored it under another type): find its family.
      if (!sampleFitsFamily(s.type, s.metricName, s.sampleName)) {
        this.rejected['bad-name']++
        return
      }
      let byType = this.families.get(s.metricName)
      if (!byType) this.families.set(s.metricName, (byType = new Map()))
      let fam = byType.get(typeKey)
      if (!fam) {
        fam = {name: s.metricName, type: s.type, mode: raw ? undefined : mode, help: s.help, samples: new Map(), buckets: new Map()}
        byType.set(typeKey, fam)
      }
      series.typeKey = typeKey
      series.fam = fam
      series.acc = undefined
      series.byPid = undefined
    }
    const acc = series.bucket ? this.bucketSum(series, s, keepsPid) : this.sampleAcc(series, s, mode, keepsPid)
    if (!acc) return
    if (keepsPid) {
      ;(series.byPid ??= new Map()).set(s.pid, acc)
    } else {
      series.acc = acc
    }
    acc.add(s.value, s.pid, s.timestamp)
  }

  /** The accumulator of the output sample a (series, pid) lands in: made on first sight. */
  private sampleAcc(series: PreparedSeries, s: StoredSample, mode: GaugeMode | undefined, keepsPid: boolean): Accumulator {
    const fam = series.fam!
    const key = keepsPid ? series.key + pidSuffix(s.pid) : series.key
    let entry = fam.samples.get(key)
    if (!entry) {
      entry = {
        name: s.sampleName,
        labels: withPid(s.labels, keepsPid ? this.pidPair(s.pid) : undefined, s.series ?? s.labels),
        acc: this.options.raw ? new LastAcc() : accumulatorFor(s.type, mode),
      }
      fam.samples.set(key, entry)
    }
    return entry.acc
  }

  /** A histogram bucket's running sum (per pid when pids are kept); undefined when `le` is not a number. */
  private bucketSum(series: PreparedSeries, s: StoredSample, keepsPid: boolean): ExactSum | undefined {
    const {bound, group, groupKey} = series.bucket!
    if (bound === undefined) {
      this.rejected['bad-le']++
      return undefined
    }
    const fam = series.fam!
    const key = keepsPid ? groupKey + pidSuffix(s.pid) : groupKey
    const le = bound === 0 ? 0 : bound
    const buckets = fam.buckets.get(key)
    if (!buckets) {
      const sum = new ExactSum()
      fam.buckets.set(key, {labels: withPid(group, keepsPid ? this.pidPair(s.pid) : undefined, undefined), les: [le], sums: [sum]})
      return sum
    }
    const {les, sums} = buckets
    let i = 0
    while (i < les.length && !sameBound(les[i], le)) i++
    if (i === les.length) {
      les.push(le)
      sums.push(new ExactSum())
    }
    return sums[i]
  }

  private pidPair(pid: number): [string, string] {
    let pair = this.pidPairs.get(pid)
    if (!pair) this.pidPairs.set(pid, (pair = ['pid', String(pid)]))
    return pair
  }

  /**
   * What fold needs of a series, worked out once: callers pass the same labels
   * array for every pid of a series, so it keys the cache.
   */
  private prepare(s: StoredSample): PreparedSeries {
    // A Map or WeakMap lookup per sample cost as much as the rest of fold() together.
    const cache = s.series ?? (s.labels as SeriesSlot)
    let p = cache.folded?.owner === this ? (cache.folded as PreparedSeries) : undefined
    if (p && p.sampleName === s.sampleName) return p
    const le = s.type === 'histogram' ? s.labels.find(([n]) => n === 'le') : undefined
    const group = le ? s.labels.filter(([n]) => n !== 'le') : undefined
    // Every field at once: one shape, its fields in the object (added later, they took an array of their own).
    p = {
      owner: this,
      sampleName: s.sampleName,
      key: s.sampleName + NAME_END + labelsKey(s.labels),
      bucket: le && group ? {bound: parsePyFloat(le[1]), group, groupKey: labelsKey(group)} : undefined,
      typeKey: undefined,
      fam: undefined,
      acc: undefined,
      byPid: undefined,
    }
    cache.folded = p
    return p
  }

  /** The families in a stable order: by name, samples by labels then bucket order. */
  result(): MetricFamily[] {
    for (const s of this.pendingLive) {
      if (this.options.isLive!(s.pid)) this.fold(s, this.options.modeOverride ?? s.mode)
    }
    this.pendingLive.length = 0
    const out: MetricFamily[] = []
    for (const [name, byType] of [...this.families].sort(([a], [b]) => compareCodePoints(a, b))) {
      // One name with two types is an application bug; keep one, deterministically.
      const [chosen, ...others] = [...byType.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      for (const [, f] of others) this.rejected['type-conflict'] += f.samples.size + f.buckets.size
      out.push(finish(name, chosen[1]))
    }
    return out
  }
}

const SUFFIX_RANK: Record<string, number> = {_bucket: 0, _count: 1, _sum: 2}

interface Row extends Sample {
  rank: number
  le: number
}

/** The family with its samples in a stable order. */
function finish(name: string, f: FamilyState): MetricFamily {
  const samples = f.buckets.size === 0 && (f.type === 'counter' || f.type === 'gauge') ? singleSamples(f) : groupedSamples(name, f)
  return {name, type: f.type, help: f.help, ...(f.mode && f.type === 'gauge' ? {mode: f.mode} : {}), samples}
}

/**
 * The samples of a counter or gauge family: one sample name, so every sample
 * is a label set of its own and needs no group, only its place in label
 * order. The order groupedSamples gives them, with two things made per
 * sample (it and its key) instead of six (row, group, its rows, its map key,
 * its key, the sample): at the end of a million-key dump those were most of
 * what the heap grew by. (Comparing label pairs in place, without the keys,
 * saved ~10 MB more but made the sort twice as slow.)
 */
function singleSamples(f: FamilyState): Sample[] {
  const samples: Sample[] = []
  f.samples.forEach(({name, labels, acc}) => {
    const value = acc.result()
    if (value !== undefined) samples.push({name, labels, value})
  })
  // As groupedSamples orders groups: by their keys, ties in first-seen order.
  const keys = samples.map((s) => labelsSortKey(s.labels))
  const utf16 = !keys.some((k) => ABOVE_SURROGATES.test(k))
  const at = samples.map((_, i) => i)
  at.sort(utf16 ? (i, j) => (keys[i] < keys[j] ? -1 : keys[i] > keys[j] ? 1 : i - j) : (i, j) => compareCodePoints(keys[i], keys[j]) || i - j)
  return at.map((i) => samples[i])
}

/**
 * The samples of a family whose label sets may hold several: grouped by label
 * set (sorted), and within a group buckets in `le` order, then _count, _sum
 * and anything else.
 */
function groupedSamples(name: string, f: FamilyState): Sample[] {
  // A group per label set, in first-seen order; its rows start as a one-element array (an
  // array filled by push() from empty reserves 17 slots, and most groups hold one row).
  const groups = new Map<string, Group>()
  const order: Group[] = []
  const addRow = (labels: LabelPairs, key: string, row: Row): Group => {
    const g = groups.get(key)
    if (g) {
      g.rows.push(row)
      return g
    }
    const made: Group = {labels, rows: [row], sortKey: ''}
    groups.set(key, made)
    order.push(made)
    return made
  }
  // Group keys are the map keys themselves: a bucket group's is its labels' key (and pid), a
  // sample's is its key after the sample name. forEach, not for-of: no [key, value] pair per entry.
  f.samples.forEach(({name: sampleName, labels, acc}, key) => {
    const value = acc.result()
    if (value === undefined) return
    const rank = SUFFIX_RANK[sampleName.slice(name.length)] ?? 3
    addRow(labels, key.slice(sampleName.length + NAME_END.length), {name: sampleName, labels, value, rank, le: 0})
  })
  const countName = `${name}_count`
  const bucketName = `${name}_bucket`
  f.buckets.forEach(({labels, les, sums}, key) => {
    let acc = 0
    const at = les.map((_, i) => i)
    if (at.length > 1) at.sort((i, j) => (les[i] < les[j] ? -1 : les[i] > les[j] ? 1 : 0))
    for (const i of at) {
      const le = les[i]
      acc += sums[i].value()
      addRow(labels, key, {name: bucketName, labels: [...labels, ['le', floatToGoString(le)]], value: acc, rank: 0, le})
    }
    const count: Row = {name: countName, labels, value: acc, rank: 1, le: 0}
    const g = groups.get(key)
    if (!g) return void addRow(labels, key, count)
    // prometheus_client's `samples[(name + '_count', labels)] = acc` replaces a stored _count.
    if (g.rows.some((r) => r.name === countName)) g.rows = g.rows.filter((r) => r.name !== countName)
    g.rows.push(count)
  })
  // As sortByCodePoint orders (stable; UTF-16 order unless a key holds a character at or above the
  // surrogates), in place: a flat key per group, compared by the engine, and no keyed copy.
  let surrogates = false
  for (const g of order) {
    g.sortKey = labelsSortKey(g.labels)
    if (!surrogates && ABOVE_SURROGATES.test(g.sortKey)) surrogates = true
  }
  order.sort(surrogates ? (x, y) => compareCodePoints(x.sortKey, y.sortKey) : (x, y) => (x.sortKey < y.sortKey ? -1 : x.sortKey > y.sortKey ? 1 : 0))
  const samples: Sample[] = []
  for (const {rows} of order) {
    if (rows.length > 1) rows.sort((a, b) => a.rank - b.rank || (a.le < b.le ? -1 : a.le > b.le ? 1 : 0) || compareCodePoints(a.name, b.name))
    for (const r of rows) samples.push({name: r.name, labels: r.labels, value: r.value})
  }
  return samples
}

interface Group {
  labels: LabelPairs
  rows: Row[]
  /** labelsSortKey(labels), made once every group is in. */
  sortKey: string
}

/**
 * One string per label set that sorts in a human order under code-point
 * comparison: pair by pair, names then values, pids numerically.
 */
function labelsSortKey(labels: LabelPairs): string {
  // Joined into one flat string: `+=` made a rope of a dozen pieces, flattened at its first comparison.
  const parts: string[] = []
  for (const pair of labels) {
    const n = pair[0]
    parts.push(n, '\u0001', n === 'pid' ? pair[1].padStart(10, '0') : pair[1], '\u0000')
  }
  return parts.join('')
}
