/**
 * Aggregation semantics the Debian oracle cannot check: mostrecent modes
 * (upstream prometheus_client only), and independence from SCAN order where
 * the reference depends on file order.
 */
import {describe, expect, it} from 'vitest'

import {Aggregator, type StoredSample} from '../../src/metrics/aggregate.js'
import {ExactSum} from '../../src/metrics/exactsum.js'
import type {GaugeMode} from '../../src/metrics/keys.js'

const gauge = (pid: number, mode: GaugeMode, value: number, timestamp = 0, labels: [string, string][] = []): StoredSample => ({
  pid,
  type: 'gauge',
  mode,
  metricName: 'g',
  sampleName: 'g',
  labels,
  help: 'h',
  value,
  timestamp,
})

function fold(samples: StoredSample[], options = {}) {
  const agg = new Aggregator(options)
  for (const s of samples) agg.add(s)
  return agg.result()
}

const values = (samples: StoredSample[], options = {}) => fold(samples, options).flatMap((f) => f.samples.map((s) => s.value))

/** Every order of the samples gives the same result. */
function orderIndependent(samples: StoredSample[]) {
  const results = permutations(samples).map((p) =>
    JSON.stringify(fold(p), (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : Object.is(v, -0) ? '-0' : v)),
  )
  expect(new Set(results).size).toBe(1)
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs]
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
}

describe('mostrecent / livemostrecent (upstream prometheus_client semantics)', () => {
  it('keeps the value with the newest timestamp', () => {
    expect(values([gauge(1, 'mostrecent', 10, 100), gauge(2, 'mostrecent', 20, 300), gauge(3, 'mostrecent', 30, 200)])).toEqual([20])
  })

  it('a zero timestamp (after inc/dec) never wins, and no timestamp at all means no sample', () => {
    expect(values([gauge(1, 'mostrecent', 10, 0), gauge(2, 'mostrecent', 20, 5)])).toEqual([20])
    expect(fold([gauge(1, 'mostrecent', 10, 0)])[0].samples).toEqual([])
  })

  it('folds the pid label away and ties go to the lowest pid, in any order', () => {
    const samples = [gauge(30, 'livemostrecent', 3, 50), gauge(10, 'livemostrecent', 1, 50), gauge(20, 'livemostrecent', 2, 40)]
    expect(fold(samples)[0].samples).toEqual([{name: 'g', labels: [], value: 1}])
    orderIndependent(samples)
  })

  it('livemostrecent ignores dead pids; mostrecent does not', () => {
    const isLive = (pid: number) => pid !== 2
    expect(values([gauge(1, 'livemostrecent', 10, 100), gauge(2, 'livemostrecent', 20, 300)], {isLive})).toEqual([10])
    expect(values([gauge(1, 'mostrecent', 10, 100), gauge(2, 'mostrecent', 20, 300)], {isLive})).toEqual([20])
  })
})

describe('order independence where the reference depends on file order', () => {
  it('max/min: NaN and ±0 resolve as if pids were read in ascending order', () => {
    expect(values([gauge(2, 'max', 5), gauge(1, 'max', Number.NaN)])).toEqual([Number.NaN])
    expect(values([gauge(1, 'max', 5), gauge(2, 'max', Number.NaN), gauge(3, 'max', 7)])).toEqual([7])
    expect(Object.is(values([gauge(2, 'min', 0), gauge(1, 'min', -0)])[0], -0)).toBe(true)
    orderIndependent([gauge(3, 'max', 0), gauge(1, 'max', -0), gauge(2, 'max', Number.NaN)])
    orderIndependent([gauge(3, 'livemin', 2), gauge(1, 'livemin', Number.NaN), gauge(2, 'livemin', -1)])
  })

  it('sums round once, exactly: 0.1 + 0.2 + 0.3 is the same in every order', () => {
    const samples = [gauge(1, 'sum', 0.1), gauge(2, 'sum', 0.2), gauge(3, 'sum', 0.3), gauge(4, 'sum', 1e-17)]
    orderIndependent(samples)
    // Python: math.fsum([0.1, 0.2, 0.3, 1e-17]) == 0.6, where 0.1 + 0.2 + 0.3 == 0.6000000000000001
    expect(values(samples)).toEqual([0.6])
  })

  it('ExactSum handles specials, overflow and signed zero like a naive float sum would', () => {
    const sum = (...xs: number[]) => {
      const s = new ExactSum()
      for (const x of xs) s.add(x)
      return s.value()
    }
    expect(sum(Infinity, 1, -Infinity)).toBeNaN()
    expect(sum(Infinity, 1e308)).toBe(Infinity)
    expect(sum(1e308, 1e308)).toBe(Infinity)
    expect(Object.is(sum(-0, -0), 0)).toBe(true)
    expect(sum(1e100, 1, -1e100)).toBe(1)
    expect(sum()).toBe(0)
  })
})

describe('modes and shapes', () => {
  it('all/liveall keep a pid label per worker; sum/max/min fold it away', () => {
    const f = fold([gauge(2, 'liveall', 1), gauge(1, 'liveall', 2)])[0]
    expect(f.samples.map((s) => s.labels)).toEqual([[['pid', '1']], [['pid', '2']]])
    expect(values([gauge(1, 'livesum', 1), gauge(2, 'livesum', 2)])).toEqual([3])
  })

  it('--mode overrides the stored mode, and live modes skip dead pids', () => {
    const samples = [gauge(1, 'all', 1), gauge(2, 'all', 2)]
    expect(values(samples, {modeOverride: 'sum'})).toEqual([3])
    expect(values(samples, {modeOverride: 'livemax', isLive: (p: number) => p === 1})).toEqual([1])
  })

  it('raw keeps every pid and series', () => {
    expect(fold([gauge(1, 'sum', 1), gauge(2, 'sum', 2)], {raw: true})[0].samples.map((s) => [s.labels, s.value])).toEqual([
      [[['pid', '1']], 1],
      [[['pid', '2']], 2],
    ])
  })

  it('histogram buckets accumulate in numeric le order, merge spellings of one bound, and count bad le', () => {
    const h = (pid: number, le: string, value: number): StoredSample => ({
      pid,
      type: 'histogram',
      metricName: 'h',
      sampleName: 'h_bucket',
      labels: [['le', le]],
      help: '',
      value,
      timestamp: 0,
    })
    const agg = new Aggregator()
    for (const s of [h(1, '+Inf', 1), h(1, '10.0', 2), h(2, '2.5', 3), h(2, '10', 4), h(1, 'ten', 9)]) agg.add(s)
    const [f] = agg.result()
    expect(f.samples.map((s) => `${s.name}${s.labels.map((l) => l.join('=')).join(',')} ${s.value}`)).toEqual([
      'h_bucketle=2.5 3',
      'h_bucketle=10.0 9',
      'h_bucketle=+Inf 10',
      'h_count 10',
    ])
    expect(agg.rejected['bad-le']).toBe(1)
  })

  it('one name with two types keeps one deterministically and counts the rest', () => {
    const agg = new Aggregator()
    agg.add(gauge(1, 'max', 1))
    agg.add({...gauge(1, 'max', 1), type: 'counter', mode: undefined, sampleName: 'g_total'})
    const [f] = agg.result()
    expect(f.type).toBe('counter')
    expect(agg.rejected['type-conflict']).toBe(1)
  })
})

describe('metric name globs', () => {
  it('match like shell globs, with regex characters taken literally', async () => {
    const {globToRegExp} = await import('../../src/ops/dump.js')
    const m = (glob: string, name: string) => globToRegExp(glob).test(name)
    expect(m('gunicorn_*', 'gunicorn_requests')).toBe(true)
    expect(m('gunicorn_*', 'app_gunicorn_requests')).toBe(false)
    expect(m('req?ests', 'requests')).toBe(true)
    expect(m('a.b', 'axb')).toBe(false)
    expect(m('a.b', 'a.b')).toBe(true)
    expect(m('m[12]', 'm2')).toBe(true)
    expect(m('m[!12]', 'm2')).toBe(false)
    expect(m('m[', 'm[')).toBe(true)
    expect(() => globToRegExp('m[z-a]')).toThrow(/--metric: "m\[z-a\]" is not a valid glob/)
  })
})
