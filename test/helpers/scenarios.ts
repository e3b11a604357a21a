/**
 * The differential oracle's scenarios (differential.test.ts), shared with the
 * cluster tests: random metrics and worker operations, replayed through
 * prometheus_client (test/oracle/multiprocess.py) and through our RedisValue.
 */
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {pyFloatRepr} from '../../src/metrics/pyfloat.js'
import type {Connection} from '../../src/redis/cluster.js'
import {scanKeys} from '../../src/redis/scan.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {type MetricSpec, WorkerMetric} from './prom-client.js'
import {PYTHON} from './python.js'

export interface Op {
  metric: number
  labels: string[] | null
  /** touch: the labelled child is created and never written (prometheus_client shows its 0.0). */
  op: 'inc' | 'dec' | 'set' | 'observe' | 'touch'
  amount: string
}
export interface Scenario {
  metrics: MetricSpec[]
  workers: {pid: number; ops: Op[]}[]
  dead: number[]
}

const ORACLE = fileURLToPath(new URL('../oracle/multiprocess.py', import.meta.url))
const MODES = ['all', 'liveall', 'sum', 'livesum', 'max', 'livemax', 'min', 'livemin'] // Debian's 0.16 has no mostrecent
// Hostile values too (a clipboard write by OSC 52, a screen clear, C1 CSI, DEL): the exposition carries them as generate_latest does.
const LABEL_VALUES = [
  '',
  'GET',
  'a "quoted" value',
  'back\\slash',
  'new\nline',
  'emoji 😀',
  'café ☃',
  'tab\there',
  '{}=,',
  '\\n literal',
  '\u001b]52;c;aGVsbG8=\u0007',
  '\u001b[2J\u009b31m',
  'del\u007f',
]
const HELPS = ['Plain help.', 'Help with \\ backslash\nand a newline.', 'Quotes " and emoji 😀 in help', '', 'Hostile \u001b[31mred\u001b[0m \u009b2J help']
const EXTREMES = ['5e-324', '1e+300', '-1e+300', 'inf', '-inf', '-0.0', '0.1', '1e-05', '1.7976931348623157e+308', '123456789.125']

function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d_2b_79_f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
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

export function makeScenario(seed: number): Scenario {
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
  const pids = Array.from({length: 2 + r.int(4)}, () => 100 + r.int(90_000))
  const workers = [...new Set(pids)].map((pid) => {
    const ops: Op[] = []
    for (let k = 0, count = r.int(25); k < count; k++) {
      const metric = r.int(metrics.length)
      const spec = metrics[metric]
      const op: Op['op'] = spec.kind === 'counter' ? 'inc' : spec.kind === 'gauge' ? r.pick(['inc', 'dec', 'set', 'set', 'touch'] as const) : 'observe'
      const labels = spec.labelnames.length > 0 ? spec.labelnames.map(() => r.pick(LABEL_VALUES.slice(0, 4 + r.int(LABEL_VALUES.length - 3)))) : null
      ops.push({metric, labels, op, amount: amountFor(r, spec, op)})
    }
    return {pid, ops}
  })
  const dead = workers.filter(() => r.next() < 0.3).map((w) => w.pid)
  return {metrics, workers, dead}
}

const num = (s: string) =>
  Number(
    s
      .replace(/^inf$/, 'Infinity')
      .replace(/^-inf$/, '-Infinity')
      .replace(/^nan$/, 'NaN'),
  )

export async function replayIntoRedis(redis: Connection, prefix: string, s: Scenario) {
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
export async function markDead(redis: Connection, prefix: string, pid: number) {
  const keys: string[] = []
  for (const match of [`${prefix}:gauge_live*:${pid}:*`, `${prefix}:gauge:${pid}:*`]) for await (const k of scanKeys(redis, {match})) keys.push(k)
  // One key per UNLINK: on a cluster the keys lie in many slots.
  await Promise.all(keys.map((k) => redis.unlink(k)))
}

/** Families as header lines plus the set of sample lines: the reference's sample order is its file order. */
export function normalize(text: string): string[] {
  const families: string[][] = []
  for (const line of text.split('\n').filter(Boolean)) {
    if (line.startsWith('# HELP')) families.push([line])
    else families.at(-1)!.push(line)
  }
  return families.map(([help, type, ...samples]) => [help, type, ...samples.sort()].join('\n')).sort()
}

/** What prometheus_client shows for a scenario. */
export function reference(scenario: Scenario): string {
  return execFileSync(PYTHON, [ORACLE], {input: JSON.stringify(scenario)}).toString()
}
