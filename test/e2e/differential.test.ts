/**
 * Differential test against the reference: random scenarios replayed through
 * the real prometheus_client (mmap files, MultiProcessCollector,
 * generate_latest; mark_process_dead for dead workers) and, op for op, through
 * our RedisValue into Redis. Our dump must equal the reference sample for
 * sample, gauges that workers created and never wrote included. Values are
 * drawn so that sums are exact: the reference adds in
 * directory order, which no one can reproduce, so inexact sums could differ
 * in the last bit for reasons that are not ours (see metrics/exactsum.ts).
 */
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {generateLatest} from '../../src/metrics/exposition.js'
import {pyFloatRepr} from '../../src/metrics/pyfloat.js'
import {dump} from '../../src/ops/dump.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {scanKeys} from '../../src/redis/scan.js'
import {type MetricSpec, WorkerMetric} from '../helpers/prom-client.js'
import {PYTHON} from '../helpers/python.js'
import {scanAll, startRedis, useRedis} from '../helpers/redis-server.js'

interface Op {
  metric: number
  labels: string[] | null
  /** touch: the labelled child is created and never written (prometheus_client shows its 0.0). */
  op: 'inc' | 'dec' | 'set' | 'observe' | 'touch'
  amount: string
}
interface Scenario {
  metrics: MetricSpec[]
  workers: {pid: number; ops: Op[]}[]
  dead: number[]
}

const ORACLE = fileURLToPath(new URL('../oracle/multiprocess.py', import.meta.url))
const MODES = ['all', 'liveall', 'sum', 'livesum', 'max', 'livemax', 'min', 'livemin'] // Debian's 0.16 has no mostrecent
// Hostile values too (a clipboard write by OSC 52, a screen clear, C1 CSI, DEL): the exposition carries them as generate_latest does.
const LABEL_VALUES = ['', 'GET', 'a "quoted" value', 'back\\slash', 'new\nline', 'emoji 😀', 'café ☃', 'tab\there', '{}=,', '\\n literal', '\u001b]52;c;aGVsbG8=\u0007', '\u001b[2J\u009b31m', 'del\u007f']
const HELPS = ['Plain help.', 'Help with \\ backslash\nand a newline.', 'Quotes " and emoji 😀 in help', '', 'Hostile \u001b[31mred\u001b[0m \u009b2J help']
const EXTREMES = ['5e-324', '1e+300', '-1e+300', 'inf', '-inf', '-0.0', '0.1', '1e-05', '1.7976931348623157e+308', '123456789.125']

function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]
  return {next, int, pick}
}

/** Quarter multiples: every sum of them is exact in any order. */
const quarter = (r: ReturnType<typeof rng>, max: number, signed = false) => pyFloatRepr((r.int(4 * max + 1) / 4) * (signed && r.next() < 0.3 ? -1 : 1))

function amountFor(r: ReturnType<typeof rng>, spec: MetricSpec, op: Op['op']): string {
  if (spec.kind === 'counter' || spec.kind === 'summary') return r.next() < 0.05 ? '1e+300' : quarter(r, 50)
  if (spec.kind === 'histogram') return r.next() < 0.1 ? r.pick(['5e-324', '1e+300', '1000000.0']) : quarter(r, 5)
  const mode = spec.mode!
  if (op !== 'set') return quarter(r, 20)
  if (mode === 'all' || mode === 'liveall') return r.next() < 0.4 ? r.pick([...EXTREMES, 'nan']) : quarter(r, 100, true)
  // Folding modes: no NaN or -0.0 (the reference's result would depend on file order), no cancellation of huge values.
  if (mode.endsWith('max') || mode.endsWith('min')) return r.next() < 0.3 ? r.pick(EXTREMES.filter((x) => x !== '-0.0')) : quarter(r, 100, true)
  return r.next() < 0.2 ? r.pick(['inf', '-inf', 'nan', '-0.0']) : quarter(r, 100, true)
}

function makeScenario(seed: number): Scenario {
  const r = rng(seed)
  const kinds = ['counter', 'gauge', 'histogram', 'summary'] as const
  const metrics: MetricSpec[] = []
  const n = 3 + r.int(6)
  for (let i = 0; i < n; i++) {
    const kind = i < kinds.length ? kinds[i] : r.pick(kinds)
    const labelnames = ['path', 'method', 'zone'].slice(0, r.int(3))
    const spec: MetricSpec = {kind, name: `m${seed}_${i}_${kind}`, help: r.pick(HELPS), labelnames}
    if (kind === 'gauge') spec.mode = r.pick(MODES)
    if (kind === 'histogram') spec.buckets = r.pick([['0.005', '0.1', '1.0', '2.5', '1000000.0'], ['1.0'], ['0.25', '0.5', '10.0', '1e+20']])
    metrics.push(spec)
  }
  const pids = Array.from({length: 2 + r.int(4)}, () => 100 + r.int(90000))
  const workers = [...new Set(pids)].map((pid) => {
    const ops: Op[] = []
    for (let k = 0, count = r.int(25); k < count; k++) {
      const metric = r.int(metrics.length)
      const spec = metrics[metric]
      const op: Op['op'] = spec.kind === 'counter' ? 'inc' : spec.kind === 'gauge' ? r.pick(['inc', 'dec', 'set', 'set', 'touch'] as const) : 'observe'
      const labels = spec.labelnames.length ? spec.labelnames.map(() => r.pick(LABEL_VALUES.slice(0, 4 + r.int(LABEL_VALUES.length - 3)))) : null
      ops.push({metric, labels, op, amount: amountFor(r, spec, op)})
    }
    return {pid, ops}
  })
  const dead = workers.filter(() => r.next() < 0.3).map((w) => w.pid)
  return {metrics, workers, dead}
}

const num = (s: string) => Number(s.replace(/^inf$/, 'Infinity').replace(/^-inf$/, '-Infinity').replace(/^nan$/, 'NaN'))

async function replayIntoRedis(redis: Redis, prefix: string, s: Scenario) {
  for (const w of s.workers) {
    const dict = new RedisStorageDict(redis, prefix, {pid: w.pid})
    const metrics = await Promise.all(s.metrics.map((spec) => WorkerMetric.create(dict, spec)))
    for (const op of w.ops) {
      const child = await metrics[op.metric].child(op.labels)
      if (op.op !== 'touch') await child[op.op](num(op.amount))
    }
  }
}

/**
 * What prometheus_client's mark_process_dead does, on the Redis side (as
 * `prune --pid` does it): drop the pid's live* gauges and the bare-`gauge`
 * twins the exporter's init wrote for them.
 */
async function markDead(redis: Redis, prefix: string, pid: number) {
  const keys: string[] = []
  for (const match of [`${prefix}:gauge_live*:${pid}:*`, `${prefix}:gauge:${pid}:*`]) for await (const k of scanKeys(redis, {match})) keys.push(k)
  if (keys.length) await redis.unlink(...keys)
}

/** Families as header lines plus the set of sample lines: the reference's sample order is its file order. */
function normalize(text: string): string[] {
  const families: string[][] = []
  for (const line of text.split('\n').filter(Boolean)) {
    if (line.startsWith('# HELP')) families.push([line])
    else families.at(-1)!.push(line)
  }
  return families.map(([help, type, ...samples]) => [help, type, ...samples.sort()].join('\n')).sort()
}

describe('dump equals prometheus_client MultiProcessCollector', () => {
  const ctx = useRedis()

  for (const seed of Array.from({length: 30}, (_, i) => i + 1)) {
    it(`random scenario ${seed}`, async () => {
      const scenario = makeScenario(seed)
      const reference = execFileSync(PYTHON, [ORACLE], {input: JSON.stringify(scenario)}).toString()
      const prefix = `diff${seed}`
      await replayIntoRedis(ctx.redis, prefix, scenario)
      for (const pid of scenario.dead) await markDead(ctx.redis, prefix, pid)
      const ours = generateLatest((await dump(ctx.redis, {prefix})).families)

      expect(normalize(ours)).toEqual(normalize(reference))
      // And through stale pids instead of deletion: --live-within drops the same live gauges.
      if (scenario.dead.length > 0) {
        const stalePrefix = `${prefix}stale`
        await replayIntoRedis(ctx.redis, stalePrefix, scenario)
        for await (const k of scanKeys(ctx.redis, {match: `${stalePrefix}:*:metric:*`})) {
          const pid = Number(k.split(':').at(-3))
          if (scenario.dead.includes(pid)) await ctx.redis.hset(k, 'updated_at', '1000.0')
        }
        const viaLiveness = await dump(ctx.redis, {prefix: stalePrefix, liveWithinMs: 3_600_000})
        expect(viaLiveness.deadPids).toEqual([...scenario.dead].sort((a, b) => a - b))
        expect(normalize(generateLatest(viaLiveness.families))).toEqual(normalize(reference))
      }
    })
  }

  it('two dumps of the same data are byte-identical and sorted', async () => {
    const a = generateLatest((await dump(ctx.redis, {prefix: 'diff7'})).families)
    const b = generateLatest((await dump(ctx.redis, {prefix: 'diff7', scanCount: 3})).families)
    expect(a).toBe(b)
    const names = [...a.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1])
    expect(names).toEqual([...names].sort())
  })
})
