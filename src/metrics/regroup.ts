/**
 * Totals over labels, as PromQL's `sum without(worker_id)` / `sum by(path)`,
 * applied to what a scrape shows (the aggregated families): samples whose
 * labels are equal once the named labels are dropped (or all but the named
 * ones) fold into one. Counters, histograms and summaries are summed; gauges
 * fold with their multiprocess mode — sum/livesum summed, max/livemax the
 * largest, min/livemin the smallest, all/liveall summed (each pid is a part
 * of a whole) — and a mostrecent gauge cannot be folded: the set() times that
 * choose its value are not in the scrape. A histogram's `le` always stays:
 * buckets fold bound by bound, and cumulative sums add up to cumulative sums.
 */
import {ConfigError} from '../errors.js'
import type {LabelPairs, MetricFamily, Sample} from './aggregate.js'
import {ExactSum} from './exactsum.js'
import {compareCodePoints, sortByCodePoint} from './pyjson.js'

export interface Regrouping {
  /** Keep only these labels (and `le`). */
  by?: string[]
  /** Drop these labels (never `le`). */
  without?: string[]
}

type Fold = 'sum' | 'max' | 'min' | 'none'

function foldOf(family: MetricFamily): Fold {
  if (family.type !== 'gauge') return 'sum'
  const {mode} = family
  if (mode === 'max' || mode === 'livemax') return 'max'
  if (mode === 'min' || mode === 'livemin') return 'min'
  if (mode === 'mostrecent' || mode === 'livemostrecent') return 'none'
  return 'sum'
}

class Folding {
  private readonly sum = new ExactSum()
  private extreme = Number.NaN
  count = 0
  constructor(private readonly fold: Fold) {}
  add(x: number): void {
    this.count++
    if (this.fold === 'sum' || this.fold === 'none') this.sum.add(x)
    else if (!Number.isNaN(x) && (Number.isNaN(this.extreme) || (this.fold === 'max' ? x > this.extreme : x < this.extreme))) this.extreme = x
  }
  value(): number {
    return this.fold === 'max' || this.fold === 'min' ? this.extreme : this.sum.value()
  }
}

const SEP = '\u0000'
const SUFFIX_RANK: Record<string, number> = {_bucket: 0, _count: 1, _sum: 2}
const leOf = (labels: LabelPairs) => {
  const le = labels.find(([n]) => n === 'le')?.[1]
  return le === undefined ? 0 : le === '+Inf' ? Infinity : Number(le)
}

export function regroup(families: readonly MetricFamily[], g: Regrouping): MetricFamily[] {
  const by = g.by ? new Set([...g.by, 'le']) : undefined
  const without = new Set((g.without ?? []).filter((n) => n !== 'le'))
  const keep = (name: string) => (by ? by.has(name) : !without.has(name))
  return families.map((family) => {
    const fold = foldOf(family)
    const out = new Map<string, {name: string; labels: LabelPairs; folding: Folding}>()
    for (const s of family.samples) {
      const labels = s.labels.filter(([n]) => keep(n))
      const key = s.name + SEP + labels.map(([n, v]) => n + SEP + v).join(SEP + SEP)
      let entry = out.get(key)
      if (!entry) out.set(key, (entry = {name: s.name, labels, folding: new Folding(fold)}))
      entry.folding.add(s.value)
      if (fold === 'none' && entry.folding.count > 1) {
        throw new ConfigError(
          `--by/--without would fold samples of ${family.name}, a ${family.mode} gauge: the set() times that pick its value are not in the scrape (add --mode sum, max or min)`,
        )
      }
    }
    // Grouped by label set (le aside) in the order finish() gives a family: buckets by le, then _count, _sum.
    const rank = (name: string) => SUFFIX_RANK[name.slice(family.name.length)] ?? 3
    const groupKey = (labels: LabelPairs) =>
      labels
        .filter(([n]) => n !== 'le')
        .map(([n, v]) => n + '\u0001' + (n === 'pid' ? v.padStart(10, '0') : v))
        .join(SEP)
    const entries = sortByCodePoint([...out.values()], (e) => groupKey(e.labels))
    const samples: Sample[] = []
    let at = 0
    while (at < entries.length) {
      let end = at + 1
      const k = groupKey(entries[at].labels)
      while (end < entries.length && groupKey(entries[end].labels) === k) end++
      const group = entries.slice(at, end)
      group.sort((a, b) => rank(a.name) - rank(b.name) || leOf(a.labels) - leOf(b.labels) || compareCodePoints(a.name, b.name))
      for (const e of group) samples.push({name: e.name, labels: e.labels, value: e.folding.value()})
      at = end
    }
    return {...family, samples}
  })
}
