/**
 * Tables fit the terminal (render/table.ts): no boxes, a rule under the
 * header, long cells shortened in the middle, every column with `wide`; and
 * no text from Redis reaches a terminal raw, or wider than a cell may be.
 * Human formats (render/human.ts) read as people write numbers and times.
 */
import stringWidth from 'string-width'
import {describe, expect, it} from 'vitest'

import {count, duration, localTime, plural, value} from '../../src/render/human.js'
import {isLineSafe, SafeCell, safeText, terminalText} from '../../src/render/safe-text.js'
import {capWidth, formatEpochSeconds, MAX_CELL_WIDTH, renderTable, renderTsv} from '../../src/render/table.js'

const head = ['sample', 'labels', 'type', 'value']
const rows = Array.from({length: 1234}, (_, i) => [
  's' + (i % 13 ? '' : '_long_name'),
  `path="/é/🙂/${'x'.repeat(i % 17)}"`,
  i % 7 ? null : 'gauge (max)',
  String(i * 1.5),
])

describe('renderTable', () => {
  it('aligns columns two spaces apart, with a rule under the header and a line per row, wide characters included', () => {
    const out = renderTable(head, rows, {width: Infinity}).split('\n')
    expect(out).toHaveLength(rows.length + 2)
    expect(out[0]).toMatch(/^sample +labels +type +value$/)
    expect(out[1]).toMatch(/^-+ {2}-+ {2}-+ {2}-+$/)
    // Every row starts its columns where the header does (display width, not string length).
    const starts = (line: string) => [...line.matchAll(/(?<=^| {2})\S/g)].map((m) => stringWidth(line.slice(0, m.index)))
    const headerStarts = starts(out[0])
    for (const line of out.slice(2, 60)) expect(starts(line).slice(0, 3)).toEqual(headerStarts.slice(0, 3))
  })

  it('fits a narrow terminal by shortening only the columns that may shrink, in the middle; wide shows everything', () => {
    const columns = [{head: 'key', shrink: true}, {head: 'type'}, {head: 'pid', align: 'right' as const}, {head: 'mode', wide: true}]
    const data = [['gunicorn:gauge_livesum:10001:metric:0123456789abcdef0123456789abcdef', 'gauge', 10_001, 'livesum']]
    const narrow = renderTable(columns, data, {width: 40})
    for (const line of narrow.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(40)
    expect(narrow).toMatch(/gunicorn:gau.*….*abcdef +gauge +10001$/m)
    expect(narrow).not.toContain('livesum')
    const wide = renderTable(columns, data, {width: 40, wide: true})
    expect(wide).toContain('gunicorn:gauge_livesum:10001:metric:0123456789abcdef0123456789abcdef')
    expect(wide).toMatch(/ livesum$/m)
  })

  it('colour only when asked: the header and the rule', () => {
    expect(renderTable(head, rows.slice(0, 2))).not.toMatch(/\u001b/)
    expect(renderTable(head, rows.slice(0, 2), {color: true})).toMatch(/^\u001b\[36msample/)
  })

  it('tab-separated lines keep a tab or newline from Redis inside its cell', () => {
    expect(
      renderTsv(
        ['a', 'b'],
        [
          ['x\ty', 'z\n'],
          [null, 3],
        ],
      ),
    ).toBe('a\tb\nx\\ty\tz\\n\n-\t3')
  })
})

describe('human formats', () => {
  it('values read: no .0, thousands separators, e-notation beyond grouping, Prometheus specials', () => {
    expect([114, 45_542_428, 0.25, 3.141_592_65, 45_542_428.5, 4.554_242_8e17, 1e-5, 0, -2.5, Infinity, -Infinity, Number.NaN].map(value)).toEqual([
      '114',
      '45,542,428',
      '0.25',
      '3.14159',
      '45,542,428.5',
      '4.55e17',
      '1e-5',
      '0',
      '-2.5',
      '+Inf',
      '-Inf',
      'NaN',
    ])
  })

  it('durations as 3m12s, counts and plurals', () => {
    expect([0, 0.4, 45, 192, 3600 + 300 + 7, 3 * 86_400 + 4 * 3600 + 5].map(duration)).toEqual(['0s', '0.4s', '45s', '3m12s', '1h5m', '3d4h'])
    expect([count(81_920), plural(1, 'key'), plural(2, 'key'), plural(1000, 'sample'), plural(1, 'series', 'series')]).toEqual([
      '81,920',
      '1 key',
      '2 keys',
      '1,000 samples',
      '1 series',
    ])
  })

  it('timestamps in local time; a number no date holds is shown as stored', () => {
    const t = 1_700_000_000.25
    const d = new Date(t * 1000)
    expect(localTime(t)).toBe(
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:20.250`,
    )
    expect([Infinity, -Infinity, Number.NaN, 1e13, 8.64e12 + 1].map(formatEpochSeconds)).toEqual(['inf', '-inf', 'nan', '10000000000000.0', '8640000000001.0'])
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
    expect(
      SafeCell.labels([
        ['a', 'x" b="y'],
        ['c\u001b', '\\'],
      ]).text,
    ).toBe('a="x\\" b=\\"y" c\\x1b="\\\\"')
  })

  it('every table escapes its cells, and a cell a caller made safe is not escaped twice', () => {
    const out = renderTable(['key', 'labels'], [[hostile, SafeCell.labels([['path', '\u001b[2J']])]], {width: Infinity})
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(out).toContain('a\\x1b]52;c;aGk=\\x07b\\nc')
    expect(out).toContain('path="\\x1b[2J"')
    expect(out.split('\n')).toHaveLength(3)
  })

  it('cells are capped at MAX_CELL_WIDTH columns, keeping start and end around a middle ellipsis', () => {
    const key = 'gunicorn:' + 'x'.repeat(1 << 20) + ':end'
    const out = renderTable(
      ['key', 'n'],
      [
        [key, 1],
        ['short', 2],
      ],
      {wide: true},
    )
    for (const line of out.split('\n')) expect(stringWidth(line)).toBeLessThanOrEqual(MAX_CELL_WIDTH + 12)
    expect(out).toMatch(/gunicorn:x+…x+:end/)
    const wide = capWidth('漢'.repeat(500), 21)
    expect(stringWidth(wide)).toBeLessThanOrEqual(21)
    expect(wide).toBe('漢'.repeat(5) + '…' + '漢'.repeat(5))
    expect(capWidth('short', 21)).toBe('short')
  })

  it('lines refuse what xargs or a line reader would split; whole text keeps its line breaks on a terminal', () => {
    for (const bad of ['a\nb', 'a b', 'a\tb', "a'b", 'a"b', 'a\\b', 'a\u001bb', 'a\u0085b', 'a\u00a0b', 'a\u2028b', 'a\u202eb', 'a\ud800b'])
      expect(isLineSafe(bad)).toBe(false)
    for (const good of ['gunicorn:counter:1:metric:0123', 'app[1]*:metrics?:x', 'café:😀']) expect(isLineSafe(good)).toBe(true)
    expect(terminalText('# HELP x \u001b[2J\nx{a="\u009b"} 1.0\n')).toBe('# HELP x \\x1b[2J\nx{a="\\u009b"} 1.0\n')
  })
})
