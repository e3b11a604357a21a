/** Tables for people (cli-table3), plain lines for pipes. */
import Table from 'cli-table3'
import stringWidth from 'string-width'

import {pyFloatRepr} from '../metrics/pyfloat.js'
import {SafeCell, safeText} from './safe-text.js'

export type Cell = string | number | boolean | SafeCell | null | undefined

/**
 * The widest a cell is drawn, in terminal columns: one 1 MB key must not pad
 * every row of a table to a megabyte. Longer text keeps its start and end
 * around a `…`, where the parts that tell keys and labels apart usually are.
 */
export const MAX_CELL_WIDTH = 120

const NO_TOP = {top: '', 'top-mid': '', 'top-left': '', 'top-right': ''}
const NO_BOTTOM = {bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': ''}

/**
 * cli-table3's layout costs time quadratic in the rows (8000 rows: 10 s; a
 * 60k-series `pid` ran for minutes; cli-table3 issue #68), so a long table is
 * drawn in slices of CHUNK rows with the column widths of the whole table,
 * each slice without the borders that join it to its neighbours: the same
 * text as one table, in time linear in the rows.
 */
const CHUNK = 100

export function renderTable(head: string[], rows: Cell[][], options: {color?: boolean} = {}): string {
  const text = rows.map((row) => row.map((c) => capWidth(cellText(c), MAX_CELL_WIDTH)))
  const style = {head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [], compact: true}
  const chars = {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}
  // Widths as cli-table3 computes them: the widest line of any cell, plus one space each side.
  const colWidths = head.map(displayWidth)
  for (const row of text) row.forEach((cell, i) => (colWidths[i] = Math.max(colWidths[i], displayWidth(cell))))
  for (let i = 0; i < colWidths.length; i++) colWidths[i] += 2
  const slices: string[] = []
  for (let at = 0; at === 0 || at < text.length; at += CHUNK) {
    const first = at === 0
    const last = at + CHUNK >= text.length
    const table = new Table({
      head: first ? head : [],
      colWidths,
      style,
      chars: {...chars, ...(first ? {} : NO_TOP), ...(last ? {} : NO_BOTTOM)},
    })
    table.push(...text.slice(at, at + CHUNK))
    slices.push(table.toString())
  }
  return slices.join('\n')
}

/** What a cell shows: `-` for nothing, text from Redis escaped (safe-text.ts). */
function cellText(c: Cell): string {
  if (c === null || c === undefined) return '-'
  return c instanceof SafeCell ? c.text : safeText(String(c))
}

/** `text` in at most `max` columns: its start, `…`, its end. */
export function capWidth(text: string, max: number): string {
  // Most cells are short: no need to measure them column by column.
  if (text.length <= max / 2 || stringWidth(text) <= max) return text
  const room = max - 1
  const head = takeColumns([...text.slice(0, 2 * max)], Math.ceil(room / 2))
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

/** Columns a cell takes on a terminal, as cli-table3 measures it (string-width, per line). */
function displayWidth(cell: string): number {
  let widest = 0
  for (const line of cell.split('\n')) widest = Math.max(widest, stringWidth(line))
  return widest
}

/** `key: value` lines, aligned, for one record; values escaped as in tables, never cut (they are sentences, not columns). */
export function renderFields(fields: [string, Cell][]): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}`).join('\n')
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

/** The largest time a JavaScript Date holds, in seconds (±8.64e12); further out, or not finite, is not a time. */
const MAX_DATE_SECONDS = 8.64e12

/**
 * Seconds since the epoch as an ISO time, or as the number the worker
 * stored when no date holds it (`inf`, `nan`, `10000000000000.0`): a worker's
 * timestamp is its own to write, and a view must show it, never fail on it.
 */
export function formatEpochSeconds(seconds: number): string {
  return Number.isFinite(seconds) && Math.abs(seconds) <= MAX_DATE_SECONDS ? new Date(seconds * 1000).toISOString() : pyFloatRepr(seconds)
}
