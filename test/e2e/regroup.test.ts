/**
 * dump --by / --without (totals over labels, as PromQL's sum by/without):
 * the same workers' writes go through prometheus_client (mmap files,
 * MultiProcessCollector) and through our RedisValue into Redis; the
 * reference's scrape, re-aggregated in Python by the rule (sum counters,
 * histograms, summaries; gauges by their mode, all summed; `le` kept), must
 * equal what the CLI prints. Values are quarter multiples: sums are exact in
 * any order.
 */
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import type {MetricFamily} from '../../src/metrics/aggregate.js'
import {regroup} from '../../src/metrics/regroup.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {runCli} from '../helpers/cli.js'
import {type MetricSpec, WorkerMetric} from '../helpers/prom-client.js'
import {PYTHON, python} from '../helpers/python.js'
import {useRedis} from '../helpers/redis-server.js'

const ORACLE = fileURLToPath(new URL('../oracle/multiprocess.py', import.meta.url))

interface Op {
  metric: number
  labels: string[]
  op: 'inc' | 'set' | 'observe'
  amount: string
}

const METRICS: MetricSpec[] = [
  {kind: 'counter', name: 'requests', help: 'Requests.', labelnames: ['path', 'worker_id']},
  {kind: 'gauge', name: 'memory', help: 'Memory of each worker.', labelnames: ['worker_id'], mode: 'all'},
  {kind: 'gauge', name: 'peak', help: 'Peak.', labelnames: ['path', 'worker_id'], mode: 'max'},
  {kind: 'gauge', name: 'inflight', help: 'In flight.', labelnames: ['worker_id'], mode: 'livesum'},
  {kind: 'gauge', name: 'free', help: 'Free slots.', labelnames: ['worker_id'], mode: 'min'},
  {kind: 'histogram', name: 'latency', help: 'Latency.', labelnames: ['path', 'worker_id'], buckets: ['0.1', '1.0']},
  {kind: 'summary', name: 'size', help: 'Size.', labelnames: ['path', 'worker_id']},
]
const PIDS = [101, 202, 303]

function workers(): {pid: number; ops: Op[]}[] {
  return PIDS.map((pid, w) => {
    const ops: Op[] = []
    const q = (n: number) => String((n % 37) / 4)
    for (const [p, path] of ['/a', '/b'].entries()) {
      const id = String(w + 1)
      const n = pid + 7 * p
      ops.push({metric: 0, labels: [path, id], op: 'inc', amount: q(n)})
      ops.push({metric: 2, labels: [path, id], op: 'set', amount: q(n * 3)})
      ops.push({metric: 5, labels: [path, id], op: 'observe', amount: q(n * 5)})
      ops.push({metric: 5, labels: [path, id], op: 'observe', amount: '0.25'})
      ops.push({metric: 6, labels: [path, id], op: 'observe', amount: q(n * 11)})
    }
    ops.push({metric: 1, labels: [String(w + 1)], op: 'set', amount: String(1_000_000 * (w + 1) + 0.25)})
    ops.push({metric: 3, labels: [String(w + 1)], op: 'inc', amount: String(w + 2)})
    ops.push({metric: 4, labels: [String(w + 1)], op: 'set', amount: String(10 - w * 3)})
    return {pid, ops}
  })
}

/** Samples of an exposition as [name, labels, value] rows, regrouped in Python by the rule when one is given. */
const PY_REGROUP = `
import json, math, sys
from collections import OrderedDict
from prometheus_client.parser import text_string_to_metric_families
inp = json.load(sys.stdin)
rule, folds = inp['rule'], inp['folds']
out = {}
for fam in text_string_to_metric_families(inp['text']):
    fold = folds.get(fam.name, 'sum') if fam.type == 'gauge' else 'sum'
    for s in fam.samples:
        labels = dict(s.labels)
        if rule.get('by') is not None:
            labels = {k: v for k, v in labels.items() if k in rule['by'] or k == 'le'}
        elif rule.get('without') is not None:
            labels = {k: v for k, v in labels.items() if k not in rule['without'] or k == 'le'}
        key = json.dumps([s.name, sorted(labels.items())])
        if key not in out:
            out[key] = s.value
        elif fold == 'max':
            out[key] = max(out[key], s.value)
        elif fold == 'min':
            out[key] = min(out[key], s.value)
        else:
            out[key] = out[key] + s.value
print(json.dumps(sorted([json.loads(k) + [repr(v)] for k, v in out.items()])))
`

function rows(text: string, rule: {by?: string[]; without?: string[]}, folds: Record<string, string>): unknown[] {
  return python(PY_REGROUP, {text, rule, folds})
}

const FOLDS: Record<string, string> = {memory: 'sum', peak: 'max', inflight: 'sum', free: 'min'}
const SUMMED: Record<string, string> = {memory: 'sum', peak: 'sum', inflight: 'sum', free: 'sum'}

describe('dump --by / --without against prometheus_client re-aggregated by the same rule', () => {
  const ctx = useRedis()
  const prefix = 'regroup'
  const scenario = {metrics: METRICS, workers: workers(), dead: []}
  const reference = execFileSync(PYTHON, [ORACLE], {input: JSON.stringify(scenario)}).toString()
  // --mode sum: the reference with every gauge summed over pids.
  const summedReference = execFileSync(PYTHON, [ORACLE], {
    input: JSON.stringify({...scenario, metrics: METRICS.map((m) => (m.kind === 'gauge' ? {...m, mode: 'sum'} : m))}),
  }).toString()

  it('writes the same data into Redis', async () => {
    for (const w of scenario.workers) {
      const dict = new RedisStorageDict(ctx.redis, prefix, {pid: w.pid})
      const metrics = await Promise.all(METRICS.map((spec) => WorkerMetric.create(dict, spec)))
      for (const op of w.ops) await (await metrics[op.metric].child(op.labels))[op.op](Number(op.amount))
    }
    const plain = await runCli(['dump', '--prefix', prefix], ctx.env)
    expect(rows(plain.stdout, {}, {})).toEqual(rows(reference, {}, {}))
  })

  for (const rule of [{without: ['worker_id']}, {by: ['path']}, {without: ['worker_id', 'pid']}, {by: []}] as {by?: string[]; without?: string[]}[]) {
    const flag = rule.by ? ['--by', rule.by.join(',') || 'none_of_them'] : ['--without', rule.without!.join(',')]
    it(`dump ${flag.join(' ')}`, async () => {
      const r = await runCli(['dump', '--prefix', prefix, ...flag], ctx.env)
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const pyRule = rule.by && rule.by.length === 0 ? {by: ['none_of_them']} : rule
      expect(rows(r.stdout, {}, {})).toEqual(rows(reference, pyRule, FOLDS))
      // promtool-clean as any dump: one family per name, buckets cumulative.
      expect(r.stdout).toMatch(/^# TYPE latency histogram$/m)
    })
  }

  it("README's example: --mode sum --without worker_id prints one total of a per-worker gauge", async () => {
    const r = await runCli(['dump', '--prefix', prefix, '--mode', 'sum', '--without', 'worker_id', '--metric', 'memory'], ctx.env)
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['memory 6.00000075e+06'])
    const all = await runCli(['dump', '--prefix', prefix, '--mode', 'sum', '--without', 'worker_id'], ctx.env)
    expect(rows(all.stdout, {}, {})).toEqual(rows(summedReference, {without: ['worker_id']}, SUMMED))
  })

  it('contradictions are usage errors: --by with --without, --raw with either, a name that is not a label name', async () => {
    for (const args of [
      ['--by', 'path', '--without', 'worker_id'],
      ['--raw', '--by', 'path'],
      ['--by', 'pa-th'],
    ]) {
      const r = await runCli(['dump', '--prefix', prefix, ...args], ctx.env)
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/^error: .*(by|without|raw)/)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('a mostrecent gauge is not folded across label sets: the set() times that choose it are not in the scrape', () => {
    const family: MetricFamily = {
      name: 'generation',
      type: 'gauge',
      help: '',
      mode: 'mostrecent',
      samples: [
        {name: 'generation', labels: [['worker_id', '1']], value: 3},
        {name: 'generation', labels: [['worker_id', '2']], value: 4},
      ],
    }
    expect(() => regroup([family], {without: ['worker_id']})).toThrow(/mostrecent gauge.*--mode/)
    // One sample per group is no fold: nothing to choose.
    expect(regroup([family], {by: ['worker_id']})[0].samples).toHaveLength(2)
  })
})
