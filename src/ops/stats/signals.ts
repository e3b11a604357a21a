/**
 * stats' verdicts that health reports as warnings — high-cardinality
 * suspects and counters about to expire — worked out from health's own
 * census walk (it reads every key's shape fields and PTTL, a meta's
 * original_key among them), so that a cron `health --strict` catches them
 * without a second walk. The judgement is stats' own (labels.ts, report.ts).
 */
import type {MetricType} from '../../metrics/keys.js'
import {parseOriginalKey} from '../../metrics/pyjson.js'
import {FIVE_MINUTES_MS, MINUTE_MS} from './collect.js'
import {describeSuspect, judgeLabel, LabelValues, type Suspect} from './labels.js'
import {expiringCounters} from './report.js'

interface Expiry {
  type: MetricType
  keys: number
  within1m: number
  within5m: number
}

export class HealthSignals {
  /** family -> label -> values, fed once per series. */
  private readonly labels = new Map<string, Map<string, LabelValues>>()
  /** series (the walk's number for an md5) -> family, for the series whose meta named them. */
  private readonly familyOf = new Map<number, string>()
  /** series -> cumulative (counter, histogram, summary) metric keys of the series and their TTLs. */
  private readonly cumulative = new Map<number, Expiry>()

  constructor(private readonly nowSeconds: number) {}

  /** A series' original_key (census: the first meta of its md5 that has one). */
  series(series: number, originalKey: string): void {
    const id = parseOriginalKey(originalKey)
    if (!id) return
    this.familyOf.set(series, id.metricName)
    let family = this.labels.get(id.metricName)
    if (!family) this.labels.set(id.metricName, (family = new Map()))
    for (const [label, value] of Object.entries(id.labels)) {
      let values = family.get(label)
      if (!values) family.set(label, (values = new LabelValues()))
      values.add(value, this.nowSeconds)
    }
  }

  /** A metric key of ours (a hash of the exporter's shape), with its PTTL. */
  metricKey(series: number, type: MetricType, pttl: number): void {
    if (type === 'gauge') return
    let e = this.cumulative.get(series)
    if (!e) this.cumulative.set(series, (e = {type, keys: 0, within1m: 0, within5m: 0}))
    e.keys++
    if (pttl >= 0 && pttl < FIVE_MINUTES_MS) {
      e.within5m++
      if (pttl < MINUTE_MS) e.within1m++
    }
  }

  suspects(): Suspect[] {
    const out: Suspect[] = []
    for (const [metric, family] of this.labels) {
      for (const [label, values] of family) {
        const s = judgeLabel(metric, label, values)
        if (s) out.push(s)
      }
    }
    return out.sort((a, b) => b.values - a.values || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))
  }

  /** The one-line warnings: counters about to expire, then cardinality suspects, as stats words them. */
  warnings(): string[] {
    const families = new Map<string, {name: string; type: string; keys: number; expiring1m: number; expiring5m: number}>()
    for (const [series, e] of this.cumulative) {
      // A series whose meta is gone has no name: grouped as such.
      const name = this.familyOf.get(series) ?? '(series without meta)'
      let f = families.get(name)
      if (!f) families.set(name, (f = {name, type: e.type, keys: 0, expiring1m: 0, expiring5m: 0}))
      f.keys += e.keys
      f.expiring1m += e.within1m
      f.expiring5m += e.within5m
    }
    return [...expiringCounters([...families.values()]).map((f) => f.message), ...this.suspects().map(describeSuspect)]
  }
}
