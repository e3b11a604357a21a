/**
 * Long tables are drawn in slices (cli-table3's layout is quadratic in the
 * rows); the text must be exactly what one cli-table3 table would print.
 */
import Table from 'cli-table3'
import {describe, expect, it} from 'vitest'

import {renderTable} from '../src/render/table.js'

const head = ['sample', 'labels', 'type', 'value']
const rows = Array.from({length: 1234}, (_, i) => ['s' + (i % 13 ? '' : '_long_name'), `path="/é/🙂/${'x'.repeat(i % 17)}"`, i % 7 ? null : 'gauge (max)', String(i * 1.5)])

function oneTable(color: boolean): string {
  const style = {head: color ? ['cyan'] : [], border: color ? ['grey'] : [], compact: true}
  const table = new Table({head, style, chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}})
  table.push(...rows.map((r) => r.map((c) => (c === null ? '-' : String(c)))))
  return table.toString()
}

describe('renderTable', () => {
  it('draws a long table in slices that read as one table, wide characters included', () => {
    expect(renderTable(head, rows)).toBe(oneTable(false))
    expect(renderTable(head, rows, {color: true})).toBe(oneTable(true))
    expect(renderTable(head, rows).split('\n')).toHaveLength(rows.length + 3)
  })

  it('short tables are one cli-table3 table', () => {
    expect(renderTable(head, rows.slice(0, 20))).toBe(
      (() => {
        const t = new Table({head, style: {head: [], border: [], compact: true}, chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}})
        t.push(...rows.slice(0, 20).map((r) => r.map((c) => (c === null ? '-' : String(c)))))
        return t.toString()
      })(),
    )
  })
})
