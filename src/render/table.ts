/**
 * Tables for people that fit the terminal, as kubectl's and gh's do: no boxes,
 * columns two spaces apart, a rule under the header so it reads without
 * colour. The default view keeps the columns that matter and shortens the long
 * ones (keys, label sets) in the middle with `…`; `wide` shows every column at
 * full width (up to MAX_CELL_WIDTH). Linear in the rows: one pass to measure,
 * one to draw.
 */
import stringWidth from 'string-width'

import {SafeCell, safeText} from './safe-text.js'

export type Cell = string | number | boolean | SafeCell | null | undefined

export interface Column {
  head: string
  /** Numbers read right-aligned. */
  align?: 'left' | 'right'
  /**
   * Long text that may be shortened in the middle to fit the terminal (keys,
   * labels); a higher number shrinks before a lower one (true is 1).
   */
  shrink?: boolean | number
  /** Shown only in the wide view (`--wide`, `-o wide`). */
  wide?: boolean
}

export interface TableOptions {
  color?: boolean
  /** Columns available; Infinity for no limit. Default: the terminal's (terminalWidth()). */
  width?: number
  /** Every column, nothing shortened to fit. */
  wide?: boolean
}

/**
 * The widest a cell is drawn, in terminal columns, even in the wide view: one
 * 1 MB key must not pad every row of a table to a megabyte. Longer text keeps
 * its start and end around a `…`, where the parts that tell keys and labels
 * apart usually are.
 */
export const MAX_CELL_WIDTH = 120

/** A shortened column keeps at least this many columns (or its header's width). */
const MIN_SHRUNK_WIDTH = 12
const GAP = '  '

/** The terminal's width: stdout's own on a terminal, else COLUMNS, else no limit. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY && stream.columns > 0) return stream.columns
  const fromEnv = Number(env.COLUMNS)
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Infinity
}

export function renderTable(head: (string | Column)[], rows: Cell[][], options: TableOptions = {}): string {
  const all: Column[] = head.map((h) => (typeof h === 'string' ? {head: h} : h))
  const shown = all.flatMap((c, i) => (options.wide || !c.wide ? [i] : []))
  const columns = shown.map((i) => all[i])
  const text = rows.map((row) => shown.map((i) => capWidth(cellText(row[i]), MAX_CELL_WIDTH)))
  const natural = columns.map((c) => displayWidth(c.head))
  for (const row of text) for (let i = 0; i < row.length; i++) natural[i] = Math.max(natural[i], displayWidth(row[i]))
  const widths = options.wide ? natural : fit(columns, natural, options.width ?? terminalWidth())

  const headText = options.color ? (s: string) => `\u001b[36m${s}\u001b[39m` : (s: string) => s
  const ruleText = options.color ? (s: string) => `\u001b[90m${s}\u001b[39m` : (s: string) => s
  const line = (cells: string[], style: (s: string) => string = (s) => s) =>
    cells
      .map((cell, i) => {
        const shortened = capWidth(cell, widths[i])
        const padding = ' '.repeat(Math.max(0, widths[i] - displayWidth(shortened)))
        return columns[i].align === 'right' ? padding + style(shortened) : style(shortened) + padding
      })
      .join(GAP)
      .trimEnd()
  const out = [
    line(
      columns.map((c) => c.head),
      headText,
    ),
    ruleText(widths.map((w) => '-'.repeat(w)).join(GAP)),
  ]
  for (const row of text) out.push(line(row))
  return out.join('\n')
}

/**
 * Column widths within `width`: the columns that may shrink give up what is
 * needed, those of the highest `shrink` rank first (the key before the metric
 * it names), each group sharing its room with the narrow ones served first so
 * that what they do not use goes to the wide ones. A table whose fixed
 * columns alone are wider than the terminal overflows rather than lose them.
 */
function fit(columns: Column[], natural: number[], width: number): number[] {
  const total = natural.reduce((a, b) => a + b, 0) + GAP.length * (natural.length - 1)
  let excess = total - width
  const widths = [...natural]
  const rank = (c: Column) => (c.shrink === true ? 1 : c.shrink || 0)
  const ranks = [...new Set(columns.map(rank).filter((r) => r > 0))].sort((a, b) => b - a)
  for (const r of ranks) {
    if (excess <= 0) break
    const group = columns.flatMap((c, i) => (rank(c) === r ? [i] : [])).sort((a, b) => natural[a] - natural[b])
    const floor = (i: number) => Math.min(natural[i], Math.max(MIN_SHRUNK_WIDTH, displayWidth(columns[i].head)))
    const current = group.reduce((a, i) => a + widths[i], 0)
    const give = Math.min(excess, current - group.reduce((a, i) => a + floor(i), 0))
    let room = current - give
    group.forEach((i, k) => {
      widths[i] = Math.max(floor(i), Math.min(natural[i], Math.floor(room / (group.length - k))))
      room -= widths[i]
    })
    excess -= give
  }
  return widths
}

/** What a cell shows: `-` for nothing, text from Redis escaped (safe-text.ts). */
function cellText(c: Cell): string {
  if (c === null || c === undefined) return '-'
  return c instanceof SafeCell ? c.text : safeText(String(c))
}

/** `text` in at most `max` columns: its start, `…`, its end. */
export function capWidth(text: string, max: number): string {
  // Most cells are short: no need to measure them column by column.
  if (text.length <= max / 2 || displayWidth(text) <= max) return text
  if (max <= 1) return '…'
  const room = max - 1
  // Spread into code points (a string's slice is a string): an astral character is one column unit, never half.
  // eslint-disable-next-line unicorn/no-useless-spread
  const head = takeColumns([...text.slice(0, 2 * max)], Math.ceil(room / 2))
  // eslint-disable-next-line unicorn/no-useless-spread
  const tail = takeColumns([...text.slice(-2 * max)].reverse(), Math.floor(room / 2)).reverse()
  return head.join('') + '…' + tail.join('')
}

/** The leading characters of `chars` that fit in `columns`. */
function takeColumns(chars: string[], columns: number): string[] {
  let used = 0
  let n = 0
  while (n < chars.length && used + stringWidth(chars[n]) <= columns) used += stringWidth(chars[n++])
  return chars.slice(0, n)
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/** Columns a cell takes on a terminal (cells are one line: safeText escaped the line breaks). */
function displayWidth(cell: string): number {
  return PRINTABLE_ASCII.test(cell) ? cell.length : stringWidth(cell)
}

/** `key: value` lines, aligned, for one record; values escaped as in tables, never cut (they are sentences, not columns). */
export function renderFields(fields: [string, Cell][]): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}`).join('\n')
}

/** Tab-separated lines for a pipe (awk, cut): a header line, then one row per line, cells escaped so a tab or newline from Redis cannot split one. */
export function renderTsv(head: string[], rows: Cell[][]): string {
  return [head, ...rows].map(tsvLine).join('\n')
}

/** One line of tab-separated cells, escaped as in tables (a tab from Redis shows as `\t`). */
export function tsvLine(cells: Cell[]): string {
  return cells.map(cellText).join('\t')
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let x = n
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024
    i++
  }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`
}

/** Seconds since the epoch as local time, or the number stored when no date holds it (see human.ts). */

export {localTime as formatEpochSeconds} from './human.js'
