import {describe, expect, it} from 'vitest'

import {floatToGoString, parsePyFloat, pyFloatRepr} from '../../src/metrics/pyfloat.js'
import {md5Hex, originalKey, parseOriginalKey} from '../../src/metrics/pyjson.js'
import {python} from '../helpers/python.js'

/** Doubles across the whole range, from their bit patterns, plus the usual suspects. */
function sampleDoubles(n: number): number[] {
  const view = new DataView(new ArrayBuffer(8))
  const out = [
    0,
    -0,
    1,
    -1,
    0.1,
    1e-5,
    1e-4,
    1e15,
    1e16,
    1e17,
    123_456_789.123,
    5e-324,
    1.797_693_134_862_315_7e308,
    1e300,
    2 ** 53,
    1e6,
    999_999.9,
    1e21,
    1e22,
  ]
  let seed = 12_345
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < 8; b++) {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0
      view.setUint8(b, seed >>> 16)
    }
    const x = view.getFloat64(0)
    if (Number.isFinite(x)) out.push(x, Math.round(x * 1000) / 1000)
  }
  // Everyday values, where pyFloatRepr takes its positional fast path (1e-4 <= |x| < 1e16), and its edges.
  for (let k = 1; k <= 300; k++) {
    out.push(k / 1000, -k / 7, k * 1.5, 1e-4 * k, 0.0001 - k * 1e-9, 1e16 - k * 2, -(1e15 + k), (k * 7919) / 100, 2 ** 52 + k)
  }
  return out
}

describe('Python float text', () => {
  const doubles = sampleDoubles(3000)
  // Doubles cross as hex bit patterns: JSON would lose -0 and could not carry inf/nan.
  const hex = doubles.map((x) => {
    const v = new DataView(new ArrayBuffer(8))
    v.setFloat64(0, x)
    return v.getBigUint64(0).toString(16).padStart(16, '0')
  })
  const reference = python<{repr: string[]; go: string[]}>(
    `import json, struct, sys
from prometheus_client.utils import floatToGoString
xs = [struct.unpack('>d', bytes.fromhex(h))[0] for h in json.load(sys.stdin)] + [float('inf'), float('-inf'), float('nan')]
print(json.dumps({"repr": [repr(x) for x in xs], "go": [floatToGoString(x) for x in xs]}))`,
    hex,
  )
  const all = [...doubles, Infinity, -Infinity, Number.NaN]

  it('pyFloatRepr equals repr(float) for every sampled double', () => {
    expect(all.map(pyFloatRepr)).toEqual(reference.repr)
  })

  it('floatToGoString equals prometheus_client.utils.floatToGoString', () => {
    expect(all.map(floatToGoString)).toEqual(reference.go)
  })

  it('parsePyFloat reads back every repr exactly, including inf/nan spellings', () => {
    reference.repr.forEach((text, i) => {
      const back = parsePyFloat(text)!
      if (Number.isNaN(all[i])) expect(back).toBeNaN()
      else expect(Object.is(back, all[i])).toBe(true)
    })
    expect(parsePyFloat('Infinity')).toBe(Infinity)
    expect(parsePyFloat(' -INF ')).toBe(-Infinity)
    expect(parsePyFloat('1_000.5')).toBe(1000.5)
  })
})

describe('original_key (Python json.dumps, sort_keys=True)', () => {
  const cases: [string, string, Record<string, string>, string][] = [
    ['requests', 'requests_total', {method: 'GET', code: '200'}, 'Total requests'],
    ['weird', 'weird_total', {z: '"q" \\ \n \t \r \b \f', a: 'café ☃ 😀 \u0001 \u007f \u00ff', B: '', _: '\uffff\ue000'}, 'Help \\ with\nnewline é'],
    ['empty', 'empty', {}, ''],
    ['astral_sort', 'x', {'\u{1F600}': '1', '\uffff': '2', a: '3'}, 'h'],
  ]
  const reference = python<{key: string; md5: string}[]>(
    `import json, sys, hashlib
out = []
for m, n, labels, h in json.load(sys.stdin):
    k = json.dumps([m, n, labels, h], sort_keys=True)
    out.append({"key": k, "md5": hashlib.md5(k.encode("utf-8")).hexdigest()})
print(json.dumps(out))`,
    cases,
  )

  it('is the same text, and so the same md5, as Python writes', () => {
    cases.forEach(([m, n, labels, h], i) => {
      const key = originalKey(m, n, labels, h)
      expect(key).toBe(reference[i].key)
      expect(md5Hex(key)).toBe(reference[i].md5)
    })
  })

  it('round-trips through parseOriginalKey', () => {
    const [m, n, labels, h] = cases[1]
    expect(parseOriginalKey(originalKey(m, n, labels, h))).toEqual({metricName: m, sampleName: n, labels, help: h})
  })
})
