/** Tables for people (cli-table3), plain lines for pipes. */
import Table from 'cli-table3'

export type Cell = string | number | boolean | null | undefined

export function renderTable(head: string[], rows: Cell[][], options: {color?: boolean} = {}): string {
  const table = new Table({
    head,
    style: {head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [], compact: true},
    chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''},
  })
  for (const row of rows) table.push(row.map((c) => (c === null || c === undefined ? '-' : String(c))))
  return table.toString()
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
