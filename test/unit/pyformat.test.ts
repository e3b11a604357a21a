/** Python's text formats without Python: float() on bytes, json.dumps's key order, what the readers refuse. */
import {describe, expect, it} from 'vitest'

import {parsePyFloat, parsePyFloatBytes, pyFloatRepr} from '../../src/metrics/pyfloat.js'
import {compareCodePoints, parseOriginalKey, pyJsonString} from '../../src/metrics/pyjson.js'

describe('parsePyFloat', () => {
  it('parsePyFloat rejects what Python float() rejects', () => {
    for (const bad of ['', 'abc', '1.2.3', '0x10', '1e', '--1', 'nan1', '1,5', '_1']) expect(parsePyFloat(bad)).toBeUndefined()
  })
})

describe('parsePyFloatBytes', () => {
  it('agrees with parsePyFloat (Python float()) on repr text and on odd text', () => {
    const texts: string[] = [
      '1.0',
      '-0.0',
      '0.0',
      '1e-05',
      '1e+16',
      'inf',
      '-inf',
      'nan',
      'NaN',
      '1.',
      '.5',
      '+1.0',
      ' 2.5 ',
      '1_000.0',
      'one',
      '',
      '-',
      '1.2.3',
    ]
    texts.push('123456789012345.6', '1234567890123456.7', '0.000000000000001', '9007199254740993.0', '0.1', '0.3', '2.675')
    let seed = 99
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0)
    for (let i = 0; i < 20_000; i++) {
      const digits = next() % 18
      const scale = 10 ** (next() % 20)
      const x = (next() * 2 ** digits + (next() % 1000)) / scale
      texts.push(pyFloatRepr(next() % 2 ? x : -x), String(x))
    }
    for (const text of texts) {
      const bytes = Buffer.from(`#${text}#`)
      expect(Object.is(parsePyFloatBytes(bytes, 1, bytes.length - 1), parsePyFloat(text)), text).toBe(true)
    }
  })
})

describe('original_key', () => {
  it('parseOriginalKey refuses shapes the exporter never writes', () => {
    for (const bad of ['', '[', '{}', '["a","b",{},"h","extra"]', '["a","b",[],"h"]', '["a","b",{"l":1},"h"]', '[1,"b",{},"h"]']) {
      expect(parseOriginalKey(bad)).toBeUndefined()
    }
  })

  it('sorts by code point like Python, not by UTF-16 unit like JavaScript', () => {
    expect(['\u{1F600}', '\uffff'].sort(compareCodePoints)).toEqual(['\uffff', '\u{1F600}'])
    expect(pyJsonString('\u{1F600}')).toBe('"\\ud83d\\ude00"')
  })
})
