/**
 * From the collector's counts to the report `stats` prints and returns:
 * rankings cut to `top`, shares of the whole, and findings in plain words.
 * Pure: no Redis, no clock of its own (the walk's Redis time is given).
 */
import {
  cmp,
  type CollectOptions,
  type FamilyAcc,
  FIVE_MINUTES_MS,
  type PidAcc,
  type StatsCollector,
  TTL_TYPES,
  type TtlCounts,
  type TtlType,
} from './collect.js'
import {describeSuspect, STRUCTURAL_LABELS, type Suspect} from './labels.js'
import {type Collision, describeCollision} from './writers.js'
import {ageSeconds} from '../../redis/time.js'

export interface FamilyRow {
  name: string
  /** counter, histogram, summary, or gauge_{mode}. */
  type: string
  series: number
  /** Metric keys: its series times the pids writing each. */
  keys: number
  pids: number
  /** Metric and meta keys together; estimated from the sampled keys (exact with --exact); null when none was sampled. */
  memoryBytes: number | null
  /** Shares of the store's series, keys and (estimated) memory, 0..1. */
  seriesShare: number
  keysShare: number
  memoryShare: number | null
  sampledKeys: number
  /** Keys that expire within a minute and within five minutes, and keys without TTL. */
  expiring1m: number
  expiring5m: number
  withoutTtl: number
  /** Series whose meta was created within the hour before the walk. */
  newSeriesLastHour: number
}

export interface LabelRow {
  name: string
  /** Distinct values over every family that has the label. */
  values: number
  families: number
}

export interface LabelPairRow {
  name: string
  value: string
  series: number
  share: number
}

export interface PidRow {
  pid: number
  keys: number
  /** The series it writes (one metric key each). */
  series: number
  memoryBytes: number | null
  memoryShare: number | null
  /** Newest updated_at (Redis time, seconds) and its age; null when no key had one. */
  newestWrite: number | null
  ageSeconds: number | null
  /** Its series against the median pid's (1 = a typical worker). */
  seriesVsMedian: number
  /** No write within the stale threshold. */
  stale: boolean
  expiring1m: number
  withoutTtl: number
}

export interface TtlRow extends TtlCounts {
  type: TtlType
}

export interface Finding {
  kind: 'cardinality' | 'expiring-counters' | 'stale-pid' | 'no-ttl' | 'pid-collision' | 'churn'
  /** The family it is about, where there is one. */
  metric?: string
  pid?: number
  message: string
}

export interface StatsReport {
  endpoint: string
  prefix: string
  /** Redis time (seconds) the walk started at. */
  now: number
  metric?: string
  top: number
  memory: {exact: boolean; samplesPerFamily: number; sampledKeys: number}
  totals: {
    metricKeys: number
    series: number
    families: number
    pids: number
    /** Estimated (exact with --exact) bytes of metric and meta keys; null when nothing was sampled. */
    memoryBytes: number | null
    /** Bare-gauge init twins and keys skipped as not clean exporter data: not counted above. */
    artifacts: number
    skipped: number
  }
  families: {byMemory: FamilyRow[]; bySeries: FamilyRow[]; byKeys: FamilyRow[]}
  labels: {
    byValues: LabelRow[]
    /** The label with the most distinct values, and its values carried by the most series. */
    worst: {name: string; values: number; top: {value: string; series: number}[]} | null
    pairs: LabelPairRow[]
  }
  pids: PidRow[]
  churn: {
    medianSeriesPerPid: number
    maxSeriesPerPid: number
    stalePids: number[]
    staleSeconds: number
    /** Share of metric keys held by stale pids. */
    staleKeyShare: number
    newSeriesLastHour: number
    /** Series whose meta had a created_at (the others cannot be dated). */
    seriesDated: number
  }
  ttl: TtlRow[]
  suspects: Suspect[]
  collisions: Collision[]
  findings: Finding[]
}

export interface ReportOptions extends CollectOptions {
  endpoint: string
  prefix: string
  metric?: string
  top: number
  /** A pid with no write for this long is stale. */
  staleSeconds: number
  /** The exporter writes without TTL here: keys without one are expected. */
  ttlDisabled?: boolean
  artifacts: number
  skipped: number
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : 0)

function median(xs: number[]): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Bytes per key of a family (metric with meta), from its sampled keys; undefined when none was sampled. */
const bytesPerKey = (f: FamilyAcc) => (f.sampledKeys > 0 ? f.sampledBytes / f.sampledKeys : undefined)

function familyBytes(f: FamilyAcc, exact: boolean): number | null {
  if (exact) return f.sampledBytes
  const per = bytesPerKey(f)
  return per === undefined ? null : Math.round(per * f.keys)
}

function pidBytes(p: PidAcc, exact: boolean): number | null {
  if (exact) return p.exactBytes
  let total = 0
  let known = false
  for (const [f, keys] of p.families) {
    const per = bytesPerKey(f)
    if (per !== undefined) {
      total += per * keys
      known = true
    }
  }
  return known ? Math.round(total) : null
}

export function buildReport(c: StatsCollector, o: ReportOptions): StatsReport {
  const families = [...c.families.values()]
  const memOf = new Map(families.map((f) => [f, familyBytes(f, o.exact)]))
  const knownMemory = [...memOf.values()].filter((b): b is number => b !== null)
  const totalMemory = knownMemory.length > 0 ? knownMemory.reduce((a, b) => a + b, 0) : null

  const rows = families.map((f): FamilyRow => {
    const memoryBytes = memOf.get(f)!
    return {
      name: f.name,
      type: f.type,
      series: f.series,
      keys: f.keys,
      pids: f.pids.size,
      memoryBytes,
      seriesShare: share(f.series, c.series),
      keysShare: share(f.keys, c.keys),
      memoryShare: memoryBytes === null || totalMemory === null ? null : share(memoryBytes, totalMemory),
      sampledKeys: f.sampledKeys,
      expiring1m: f.ttl.within1m,
      expiring5m: f.ttl.within5m,
      withoutTtl: f.ttl.withoutTtl,
      newSeriesLastHour: f.newSeries,
    }
  })
  const ranked = (by: (r: FamilyRow) => number) => [...rows].sort((a, b) => by(b) - by(a) || cmp(a.name, b.name)).slice(0, o.top)

  // Label names over every family: distinct values merged by name.
  const byName = new Map<string, {values: Map<string, number>; families: number}>()
  for (const f of families) {
    for (const [label, v] of f.labels) {
      let acc = byName.get(label)
      if (!acc) byName.set(label, (acc = {values: new Map(), families: 0}))
      acc.families++
      for (const [value, n] of v.series) acc.values.set(value, (acc.values.get(value) ?? 0) + n)
    }
  }
  const labelRows = [...byName].map(([name, a]): LabelRow => ({name, values: a.values.size, families: a.families}))
  labelRows.sort((a, b) => b.values - a.values || cmp(a.name, b.name))
  // The worst label is the one with the most values that are not histogram bounds or quantiles, where there is one.
  const worstName = (labelRows.find((l) => !STRUCTURAL_LABELS.has(l.name)) ?? labelRows[0])?.name
  const worst =
    worstName === undefined
      ? null
      : {
          name: worstName,
          values: byName.get(worstName)!.values.size,
          top: [...byName.get(worstName)!.values]
            .sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))
            .slice(0, o.top)
            .map(([value, series]) => ({value, series})),
        }
  const pairs: LabelPairRow[] = []
  for (const [name, a] of byName) for (const [value, series] of a.values) pairs.push({name, value, series, share: share(series, c.series)})
  pairs.sort((a, b) => b.series - a.series || cmp(a.name, b.name) || cmp(a.value, b.value))
  pairs.length = Math.min(pairs.length, o.top)

  // Pids.
  const pidAccs = [...c.pids.values()]
  const med = median(pidAccs.map((p) => p.keys))
  const pidMem = new Map(pidAccs.map((p) => [p, pidBytes(p, o.exact)]))
  const pidMemTotal = [...pidMem.values()].reduce<number>((a, b) => a + (b ?? 0), 0)
  const isStale = (p: PidAcc) => !Number.isFinite(p.newestWrite) || o.nowSeconds - p.newestWrite > o.staleSeconds
  const pidRows = pidAccs.map((p): PidRow => {
    const memoryBytes = pidMem.get(p)!
    return {
      pid: p.pid,
      keys: p.keys,
      series: p.keys,
      memoryBytes,
      memoryShare: memoryBytes === null ? null : share(memoryBytes, pidMemTotal),
      newestWrite: Number.isFinite(p.newestWrite) ? p.newestWrite : null,
      ageSeconds: ageSeconds(p.newestWrite, o.nowSeconds),
      seriesVsMedian: med > 0 ? Math.round((100 * p.keys) / med) / 100 : 0,
      stale: isStale(p),
      expiring1m: p.ttl.within1m,
      withoutTtl: p.ttl.withoutTtl,
    }
  })
  pidRows.sort((a, b) => b.keys - a.keys || a.pid - b.pid)
  const stale = pidAccs.filter(isStale)
  const staleKeys = stale.reduce((a, p) => a + p.keys, 0)

  const suspects = c.suspects()
  const collisions = c.writers.collisions()
  const report: StatsReport = {
    endpoint: o.endpoint,
    prefix: o.prefix,
    now: o.nowSeconds,
    ...(o.metric === undefined ? {} : {metric: o.metric}),
    top: o.top,
    memory: {exact: o.exact, samplesPerFamily: o.exact ? 0 : o.samples, sampledKeys: families.reduce((a, f) => a + f.sampledKeys, 0)},
    totals: {
      metricKeys: c.keys,
      series: c.series,
      families: families.length,
      pids: c.pids.size,
      memoryBytes: totalMemory,
      artifacts: o.artifacts,
      skipped: o.skipped,
    },
    families: {byMemory: ranked((r) => r.memoryBytes ?? -1), bySeries: ranked((r) => r.series), byKeys: ranked((r) => r.keys)},
    labels: {byValues: labelRows.slice(0, o.top), worst, pairs},
    pids: pidRows.slice(0, o.top),
    churn: {
      medianSeriesPerPid: med,
      maxSeriesPerPid: pidAccs.reduce((a, p) => Math.max(a, p.keys), 0),
      stalePids: stale.map((p) => p.pid).sort((a, b) => a - b),
      staleSeconds: o.staleSeconds,
      staleKeyShare: share(staleKeys, c.keys),
      newSeriesLastHour: families.reduce((a, f) => a + f.newSeries, 0),
      seriesDated: families.reduce((a, f) => a + f.seriesWithCreatedAt, 0),
    },
    ttl: TTL_TYPES.map((type) => ({type, ...c.ttl[type]})),
    suspects,
    collisions,
    findings: [],
  }
  report.findings = findings(report, rows, pidRows, o)
  return report
}

/** A few items of a list in words, with how many more. */
function some<T>(items: T[], show: (t: T) => string, n = 5): string {
  const head = items.slice(0, n).map(show).join(', ')
  return items.length > n ? `${head} and ${items.length - n} more` : head
}

/** The findings, most urgent first: what is about to go wrong, then what grows, then what is stale. */
function findings(r: StatsReport, families: FamilyRow[], pids: PidRow[], o: ReportOptions): Finding[] {
  const out: Finding[] = []
  out.push(...expiringCounters(families))
  for (const s of r.suspects) out.push({kind: 'cardinality', metric: s.metric, message: describeSuspect(s)})
  for (const c of r.collisions) out.push({kind: 'pid-collision', pid: c.pid, message: describeCollision(c)})
  const med = r.churn.medianSeriesPerPid
  for (const p of pids) {
    if (med > 0 && p.series >= 2 * med && p.series - med >= 10) {
      out.push({
        kind: 'churn',
        pid: p.pid,
        message: `pid ${p.pid} holds ${p.series} series, ${p.seriesVsMedian}× the median worker's ${med}: a label that grows per worker, or a worker that outlived the others' restarts`,
      })
    }
  }
  for (const p of pids) {
    if (!p.stale) continue
    const when = p.ageSeconds === null ? 'has no readable write time' : `has not written for ${ageWords(p.ageSeconds)}`
    out.push({
      kind: 'stale-pid',
      pid: p.pid,
      message: `pid ${p.pid} ${when} (${plural(p.keys, 'key')}${p.withoutTtl > 0 ? `, ${p.withoutTtl} without TTL` : ''}): a stopped worker; redismp prune --stale ${Math.round(o.staleSeconds / 60) || 1}m removes its live gauges`,
    })
  }
  const noTtl = families.filter((f) => f.withoutTtl > 0).sort((a, b) => b.withoutTtl - a.withoutTtl || cmp(a.name, b.name))
  if (noTtl.length > 0 && !o.ttlDisabled) {
    const total = noTtl.reduce((a, f) => a + f.withoutTtl, 0)
    out.push({
      kind: 'no-ttl',
      message: `${plural(total, 'key')} ${total === 1 ? 'has' : 'have'} no TTL and never ${total === 1 ? 'expires' : 'expire'} (${some(noTtl, (f) => `${f.name} ${f.withoutTtl}`)}): redismp prune --fix-ttl`,
    })
  }
  return out
}

/**
 * Counters, histograms and summaries that expire within a minute: their
 * totals drop when they go, and rate() sees a reset. Within five minutes is
 * reported when they have no key left beyond it.
 */
export function expiringCounters(families: Pick<FamilyRow, 'name' | 'type' | 'keys' | 'expiring1m' | 'expiring5m'>[]): Finding[] {
  const out: Finding[] = []
  const cumulative = families.filter((f) => CUMULATIVE.has(f.type) && f.expiring1m > 0)
  cumulative.sort((a, b) => b.expiring1m - a.expiring1m || cmp(a.name, b.name))
  for (const f of cumulative) {
    out.push({
      kind: 'expiring-counters',
      metric: f.name,
      message: `${f.type} ${f.name}: ${f.expiring1m} of ${plural(f.keys, 'key')} ${f.expiring1m === 1 ? 'expires' : 'expire'} within a minute (${f.expiring5m} within ${FIVE_MINUTES_MS / 60_000} minutes): when they go, the totals drop; a worker idle for longer than the TTL loses its counts`,
    })
  }
  return out
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

const CUMULATIVE = new Set(['counter', 'histogram', 'summary'])

function ageWords(s: number): string {
  if (s < 120) return `${Math.round(s)}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172_800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86_400)}d`
}
