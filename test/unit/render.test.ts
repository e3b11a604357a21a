/**
 * Long tables are drawn in slices (cli-table3's layout is quadratic in the
 * rows); the text must be exactly what one cli-table3 table would print. And
 * no text from Redis reaches a terminal raw, or wider than a cell may be.
 */
import Table from 'cli-table3'
import stringWidth from 'string-width'
import {describe, expect, it} from 'vitest'

import {SafeCell, isLineSafe, safeText, terminalText} from '../../src/render/safe-text.js'
import {MAX_CELL_WIDTH, capWidth, formatEpochSeconds, renderTable} from '../../src/render/table.js'

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

describe('text from Redis in human views (safe-text.ts)', () => {
  const hostile = 'a\u001b]52;c;aGk=\u0007b\nc\rd\te\\f\u009b2Jg\u007fh\ud800i\u202ej'

  it('safeText shows control characters, DEL, C1, lone surrogates and bidi overrides as escapes', () => {
    expect(safeText(hostile)).toBe('a\\x1b]52;c;aGk=\\x07b\\nc\\rd\\te\\\\f\\u009b2Jg\\x7fh\\ud800i\\u202ej')
    expect(safeText('gunicorn:counter:1:metric:ab café 😀 漢字')).toBe('gunicorn:counter:1:metric:ab café 😀 漢字')
    // Nothing a terminal acts on is left.
    expect(safeText(hostile)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/)
  })

  it('a quoted label value cannot close its quotes early', () => {
    expect(SafeCell.labels([['a', 'x" b="y'], ['c\u001b', '\\']]).text).toBe('a="x\\" b=\\"y" c\\x1b="\\\\"')
  })

  it('every table escapes its cells, and a cell a caller made safe is not escaped twice', () => {
    const out = renderTable(['key', 'labels'], [[hostile, SafeCell.labels([['path', '\u001b[2J']])]])
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(out).toContain('a\\x1b]52;c;aGk=\\x07b\\nc')
    expect(out).toContain('path="\\x1b[2J"')
    expect(out.split('\n')).toHaveLength(4)
  })

  it('cells are capped at MAX_CELL_WIDTH columns, keeping start and end around a middle ellipsis', () => {
    const key = 'gunicorn:' + 'x'.repeat(1 << 20) + ':end'
    const out = renderTable(['key', 'n'], [[key, 1], ['short', 2]])
    for (const line of out.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(MAX_CELL_WIDTH + 12)
    expect(out).toMatch(/gunicorn:x+…x+:end/)
    const wide = capWidth('漢'.repeat(500), 21)
    expect(stringWidth(wide)).toBeLessThanOrEqual(21)
    expect(wide).toBe('漢'.repeat(5) + '…' + '漢'.repeat(5))
    expect(capWidth('short', 21)).toBe('short')
  })

  it('lines refuse what xargs or a line reader would split; whole text keeps its line breaks on a terminal', () => {
    for (const bad of ['a\nb', 'a b', 'a\tb', "a'b", 'a"b', 'a\\b', 'a\u001bb', 'a\u0085b', 'a\u00a0b', 'a\u2028b', 'a\u202eb', 'a\ud800b']) expect(isLineSafe(bad)).toBe(false)
    for (const good of ['gunicorn:counter:1:metric:0123', 'app[1]*:metrics?:x', 'café:😀']) expect(isLineSafe(good)).toBe(true)
    expect(terminalText('# HELP x \u001b[2J\nx{a="\u009b"} 1.0\n')).toBe('# HELP x \\x1b[2J\nx{a="\\u009b"} 1.0\n')
  })

  it('a timestamp no date can hold is shown as the number', () => {
    expect(formatEpochSeconds(1_700_000_000.25)).toBe('2023-11-14T22:13:20.250Z')
    expect([Infinity, -Infinity, Number.NaN, 1e13, 8.64e12 + 1].map(formatEpochSeconds)).toEqual(['inf', '-inf', 'nan', '10000000000000.0', '8640000000001.0'])
  })
})
