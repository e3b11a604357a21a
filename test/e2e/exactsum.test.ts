/** ExactSum against the reference: Python's math.fsum, correctly rounded. */
import {describe, expect, it} from 'vitest'

import {ExactSum} from '../../src/metrics/exactsum.js'
import {pyFloatRepr} from '../../src/metrics/pyfloat.js'
import {python} from '../helpers/python.js'

describe('ExactSum against Python math.fsum', () => {
  it('is correctly rounded on random inputs, wide and cancelling', () => {
    let seed = 7
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32
    const cases = Array.from({length: 300}, () =>
      Array.from({length: 1 + Math.floor(rand() * 12)}, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20) * (rand() < 0.2 ? 1e10 : 1)),
    )
    cases.push([1e16, 1, -1e16], [0.1, 0.2, -0.3], [1, 1e-16, 1e-16])
    const reference = python<string[]>('import json, math, sys\nprint(json.dumps([repr(math.fsum(c)) for c in json.load(sys.stdin)]))', cases)
    const ours = cases.map((c) => {
      const s = new ExactSum()
      for (const x of c) s.add(x)
      return pyFloatRepr(s.value())
    })
    expect(ours).toEqual(reference)
  })
})
