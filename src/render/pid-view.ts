/**
 * One worker's series as a person reads them: histogram buckets in numeric
 * `le` order and cumulative, as dump shows them (the store keeps each bucket's
 * own count), followed by a derived `_count` row; everything else as stored.
 */
import type {GaugeMode, MetricType} from '../metrics/keys.js'

/** What pidView needs of a stored series (ops/pids.ts' StoredSeries has it). */
export interface StoredSeries {
  metric: string
  sample: string
  labels: Record<string, string>
  type: MetricType
  mode?: GaugeMode
  value: number
  timestamp: number
  ageSeconds: number | null
  ttl: number | null
}

export interface PidViewRow extends Omit<StoredSeries, 'metric' | 'labels'> {
  labels: [string, string][]
  /** Computed here (a histogram's `_count`), not stored: no key, no age, no TTL. */
  derived: boolean
}

const leValue = (le: string | undefined) => (le === '+Inf' ? Infinity : le === '-Inf' ? -Infinity : Number(le))

export function pidView(series: readonly StoredSeries[]): PidViewRow[] {
  const groups = new Map<string, StoredSeries[]>()
  for (const s of series) {
    const labels = Object.entries(s.labels).filter(([k]) => !(s.type === 'histogram' && k === 'le'))
    const key = `${s.metric}\u0000${JSON.stringify(labels)}`
    let group = groups.get(key)
    if (!group) groups.set(key, (group = []))
    group.push(s)
  }
  const out: PidViewRow[] = []
  for (const group of groups.values()) {
    const buckets = group.filter((s) => s.type === 'histogram' && s.sample.endsWith('_bucket') && 'le' in s.labels)
    const rest = group.filter((s) => !buckets.includes(s))
    buckets.sort((a, b) => leValue(a.labels.le) - leValue(b.labels.le))
    let total = 0
    for (const b of buckets) {
      total += b.value
      out.push({...row(b), value: total})
    }
    const last = buckets.at(-1)
    if (last && last.labels.le === '+Inf') {
      const labels = Object.entries(last.labels).filter(([k]) => k !== 'le')
      out.push({
        sample: last.sample.replace(/_bucket$/, '_count'),
        labels,
        type: 'histogram',
        value: total,
        timestamp: 0,
        ageSeconds: null,
        ttl: null,
        derived: true,
      })
    }
    for (const s of rest) out.push(row(s))
  }
  return out
}

function row(s: StoredSeries): PidViewRow {
  return {
    sample: s.sample,
    labels: Object.entries(s.labels),
    type: s.type,
    ...(s.mode ? {mode: s.mode} : {}),
    value: s.value,
    timestamp: s.timestamp,
    ageSeconds: s.ageSeconds,
    ttl: s.ttl,
    derived: false,
  }
}
