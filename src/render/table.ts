/** Tables for people (cli-table3), plain lines for pipes. */
import Table from 'cli-table3'
import stringWidth from 'string-width'

export type Cell = string | number | boolean | null | undefined

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
  const text = rows.map((row) => row.map((c) => (c === null || c === undefined ? '-' : String(c))))
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

/** Columns a cell takes on a terminal, as cli-table3 measures it (string-width, per line). */
function displayWidth(cell: string): number {
  let widest = 0
  for (const line of cell.split('\n')) widest = Math.max(widest, stringWidth(line))
  return widest
}

/** `key: value` lines, aligned, for one record. */
export function renderFields(fields: [string, Cell][]): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${v === null || v === undefined ? '-' : String(v)}`).join('\n')
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
