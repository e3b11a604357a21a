/**
 * The terminal view of `stats`: short ranked tables with inline bars for
 * shares, then the findings in words — fitted to the terminal's width (80
 * columns and up): the name column takes what the numbers leave, long names
 * keep their start and end around a `…`, and no line is wider than the
 * terminal. Self-contained: names and values from Redis go through safeText.
 */
import type {ChalkInstance} from 'chalk'
import stringWidth from 'string-width'

import {quotedText, safeText} from './safe-text.js'

/**
 * What the view reads of stats' report (ops/stats/report.ts: StatsReport
 * has this shape and more). Declared here because render/ sits above ops/
 * in the imports' direction, and a view should say what it depends on.
 */
export interface StatsView {
  endpoint: string
  prefix: string
  metric?: string
  memory: {exact: boolean; samplesPerFamily: number}
  totals: {metricKeys: number; series: number; families: number; pids: number; memoryBytes: number | null; artifacts: number; skipped: number}
  families: {byMemory: FamilyView[]; bySeries: FamilyView[]}
  labels: {
    byValues: {name: string; values: number; families: number}[]
    worst: {name: string; values: number; top: {value: string; series: number}[]} | null
    pairs: {name: string; value: string; series: number; share: number}[]
  }
  pids: {pid: number; keys: number; seriesVsMedian: number; ageSeconds: number | null; stale: boolean; memoryShare: number | null}[]
  ttl: {type: string; keys: number; within1m: number; within5m: number; withoutTtl: number}[]
  churn: {
    medianSeriesPerPid: number
    maxSeriesPerPid: number
    stalePids: number[]
    staleSeconds: number
    staleKeyShare: number
    newSeriesLastHour: number
    seriesDated: number
  }
  findings: {message: string}[]
}

interface FamilyView {
  name: string
  type: string
  series: number
  keys: number
  pids: number
  memoryBytes: number | null
  memoryShare: number | null
  seriesShare: number
}

/** The narrowest the view is laid out for; a narrower terminal gets lines cut at its width. */
export const MIN_WIDTH = 40

export interface ViewOptions {
  /** Terminal columns. */
  width: number
  /** Bold section titles (only when colour is on). */
  chalk?: ChalkInstance
}

interface Col {
  head: string
  right?: boolean
  /** Takes the width the others leave (the name column). */
  flex?: boolean
  /** The widest this column is drawn; longer cells are cut in the middle. */
  max?: number
}

const GAP = '  '

/** `text` in at most `max` columns: start, `…`, end. */
export function fit(text: string, max: number): string {
  if (stringWidth(text) <= max) return text
  if (max <= 1) return '…'.slice(0, max)
  const chars = [...text]
  const room = max - 1
  const take = (list: string[], cols: number) => {
    const out: string[] = []
    let used = 0
    for (const c of list) {
      const w = stringWidth(c)
      if (used + w > cols) break
      out.push(c)
      used += w
    }
    return out
  }
  const head = take(chars, Math.ceil(room / 2))
  const tail = take([...chars].reverse(), Math.floor(room / 2)).reverse()
  return head.join('') + '…' + tail.join('')
}

const pad = (text: string, width: number, right: boolean) => {
  const room = Math.max(0, width - stringWidth(text))
  return right ? ' '.repeat(room) + text : text + ' '.repeat(room)
}

/** Rows under a header, columns sized to their content, the flex column given what is left of `width`. */
function grid(cols: Col[], rows: string[][], width: number): string[] {
  if (rows.length === 0) return []
  const natural = cols.map((c, i) => Math.min(c.max ?? Infinity, Math.max(stringWidth(c.head), ...rows.map((r) => stringWidth(r[i])))))
  const flex = cols.findIndex((c) => c.flex)
  if (flex !== -1) {
    const others = natural.reduce((a, w, i) => (i === flex ? a : a + w), 0) + GAP.length * (cols.length - 1)
    natural[flex] = Math.max(Math.min(natural[flex], width - others), Math.min(natural[flex], 8))
  }
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => pad(fit(cell, natural[i]), natural[i], cols[i].right ?? false))
      .join(GAP)
      .trimEnd()
  return [line(cols.map((c) => c.head)), ...rows.map(line)]
}

/** A share 0..1 as a bar of `cells` columns (█ per cell, ▌ per half) and a percentage. */
export function bar(share: number | null, cells: number): string {
  if (share === null || !Number.isFinite(share)) return '-'
  const halves = Math.round(Math.max(0, Math.min(1, share)) * cells * 2)
  const drawn = '█'.repeat(halves >> 1) + (halves & 1 ? '▌' : '')
  return drawn.padEnd(cells) + ' ' + percent(share).padStart(6)
}

export function percent(share: number): string {
  const p = 100 * share
  return p >= 10 || p === 0 ? `${p.toFixed(p >= 99.95 || p === 0 ? 0 : 1)}%` : `${p.toFixed(1)}%`
}

const n = (x: number) => x.toLocaleString('en-US')

export function bytes(x: number | null): string {
  if (x === null) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let v = x
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
}

export function ago(seconds: number | null): string {
  if (seconds === null) return '-'
  if (seconds < 60) return `${Math.round(seconds)}s ago`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h ago`
  return `${Math.round(seconds / 86_400)}d ago`
}

/** Words wrapped to `width`, the first line led by `first`, the others by `indent`. */
function wrap(text: string, width: number, first: string, indent: string): string[] {
  const out: string[] = []
  let line = first
  let empty = true
  for (const word of text.split(' ')) {
    const candidate = empty ? line + word : line + ' ' + word
    if (!empty && stringWidth(candidate) > width) {
      out.push(line)
      line = indent + word
    } else line = candidate
    empty = false
  }
  out.push(line)
  return out.map((l) => fit(l, width))
}

export function renderStats(r: StatsView, o: ViewOptions): string {
  const width = Math.max(MIN_WIDTH, o.width)
  const title = (t: string) => (o.chalk ? o.chalk.bold(t) : t)
  const wide = width >= 100
  const barCells = wide ? 20 : 10
  const out: string[] = []
  const section = (name: string, lines: string[]) => {
    if (lines.length === 0) return
    out.push('', title(name), ...lines)
  }
  const t = r.totals
  const memory = r.memory.exact
    ? `${bytes(t.memoryBytes)} (exact)`
    : t.memoryBytes === null
      ? 'memory not sampled'
      : `~${bytes(t.memoryBytes)} (${r.memory.samplesPerFamily} keys sampled per family)`
  out.push(
    ...wrap(`${r.endpoint}, prefix ${quotedText(r.prefix)}${r.metric === undefined ? '' : `, metric ${quotedText(r.metric)}`}`, width, 'stats of ', '  '),
    ...wrap(`${n(t.metricKeys)} metric keys, ${n(t.series)} series, ${n(t.families)} families, ${n(t.pids)} pids; ${memory}`, width, '', '  '),
  )
  if (t.artifacts > 0 || t.skipped > 0)
    out.push(...wrap(`not counted: ${n(t.artifacts)} bare-gauge artifacts, ${n(t.skipped)} keys that are not clean exporter data`, width, '', '  '))

  const family = (f: FamilyView) => safeText(f.name)
  section(
    'FAMILIES BY MEMORY',
    grid(
      [{head: 'family', flex: true}, {head: 'keys', right: true}, {head: 'memory', right: true}, {head: 'share of memory'}],
      r.families.byMemory.map((f) => [family(f), n(f.keys), bytes(f.memoryBytes), bar(f.memoryShare, barCells)]),
      width,
    ),
  )
  section(
    'FAMILIES BY SERIES',
    grid(
      [
        {head: 'family', flex: true},
        ...(wide ? [{head: 'type'}] : []),
        {head: 'pids', right: true},
        {head: 'keys', right: true},
        {head: 'series', right: true},
        {head: 'share of series'},
      ],
      r.families.bySeries.map((f) => [family(f), ...(wide ? [f.type] : []), n(f.pids), n(f.keys), n(f.series), bar(f.seriesShare, barCells)]),
      width,
    ),
  )
  const labelTotal = r.labels.byValues[0]?.values ?? 0
  section(
    'LABELS BY DISTINCT VALUES',
    grid(
      [{head: 'label', flex: true}, {head: 'families', right: true}, {head: 'values', right: true}, {head: 'against the most'}],
      r.labels.byValues.map((l) => [safeText(l.name), n(l.families), n(l.values), bar(labelTotal ? l.values / labelTotal : 0, barCells)]),
      width,
    ),
  )
  if (r.labels.worst) {
    section(
      `TOP VALUES OF ${quotedText(r.labels.worst.name)} (${n(r.labels.worst.values)} values)`,
      grid(
        [{head: 'value', flex: true}, {head: 'series', right: true}, {head: 'share of series'}],
        r.labels.worst.top.map((v) => [quotedText(v.value), n(v.series), bar(t.series ? v.series / t.series : 0, barCells)]),
        width,
      ),
    )
  }
  section(
    'LABEL PAIRS BY SERIES',
    grid(
      [{head: 'pair', flex: true}, {head: 'series', right: true}, {head: 'share of series'}],
      r.labels.pairs.map((p) => [`${safeText(p.name)}=${quotedText(p.value)}`, n(p.series), bar(p.share, barCells)]),
      width,
    ),
  )
  section(
    'PIDS',
    grid(
      [{head: 'pid', right: true}, {head: 'keys', right: true}, {head: '×median', right: true}, {head: 'last write', flex: true}, {head: 'share of memory'}],
      r.pids.map((p) => [String(p.pid), n(p.keys), p.seriesVsMedian.toFixed(2), ago(p.ageSeconds) + (p.stale ? ' (stale)' : ''), bar(p.memoryShare, barCells)]),
      width,
    ),
  )
  section(
    'EXPIRY (keys by type)',
    grid(
      [
        {head: 'type', flex: true},
        {head: 'keys', right: true},
        {head: 'within 1m', right: true},
        {head: 'within 5m', right: true},
        {head: 'no TTL', right: true},
      ],
      r.ttl.filter((x) => x.keys > 0).map((x) => [x.type, n(x.keys), n(x.within1m), n(x.within5m), n(x.withoutTtl)]),
      width,
    ),
  )
  const c = r.churn
  section('CHURN', [
    ...wrap(`series per pid: median ${n(c.medianSeriesPerPid)}, max ${n(c.maxSeriesPerPid)}`, width, '', '  '),
    ...wrap(
      `stale pids (no write for ${ago(c.staleSeconds).replace(' ago', '')}): ${c.stalePids.length}, holding ${percent(c.staleKeyShare)} of keys`,
      width,
      '',
      '  ',
    ),
    ...wrap(`series created in the last hour: ${n(c.newSeriesLastHour)} of ${n(c.seriesDated)} with a created_at`, width, '', '  '),
  ])
  section('FINDINGS', r.findings.length === 0 ? ['none'] : r.findings.flatMap((f) => wrap(safeText(f.message), width, '- ', '  ')))
  return out.map((l) => fit(l, width)).join('\n')
}
