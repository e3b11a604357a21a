/**
 * A live gauge between its creation and its first write: prometheus_client
 * shows that worker's 0.0 (its mmap file is created holding it); the exporter
 * writes the 0.0 only to a bare `gauge` twin (engine/unset-gauges.ts). dump
 * must show the 0 wherever the gauge's mode can be known, as the reference does.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {beforeEach, describe, expect, it} from 'vitest'

import {generateLatest} from '../../src/metrics/exposition.js'
import {dump} from '../../src/ops/dump.js'
import {inspectPid} from '../../src/ops/pids.js'
import {redisTime} from '../../src/redis/time.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {RedisValue} from '../../src/storage/value.js'
import {PYTHON} from '../helpers/python.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'

const ORACLE = fileURLToPath(new URL('../oracle/multiprocess.py', import.meta.url))

interface Golden {
  cases: Record<string, {prefix: string; keys: Record<string, {fields: Record<string, string>}>}>
}
const golden = JSON.parse(readFileSync(new URL('../golden/wire.json', import.meta.url), 'utf8')) as Golden

describe('live gauges created and not yet written', () => {
  const ctx = useRedis()
  const prefix = 'unset'
  beforeEach(async () => {
    const keys = await scanAll(ctx.redis, `${prefix}:*`)
    if (keys.length > 0) await ctx.redis.unlink(...keys)
  })

  /** A gauge as the exporter creates it for one worker (meta under its mode, the 0.0 in the bare twin); `value` sets it. */
  async function gauge(pid: number, mode: string, value?: number, metric = 'g') {
    const v = await RedisValue.create(new RedisStorageDict(ctx.redis, prefix, {pid}), {
      typ: 'gauge',
      metricName: metric,
      name: metric,
      labelnames: [],
      labelvalues: [],
      help: 'h',
      multiprocessMode: mode,
    })
    if (value !== undefined) await v.set(value)
  }

  const samples = async (o: Partial<Parameters<typeof dump>[1]> = {}) =>
    (await dump(ctx.redis, {prefix, ...o})).families.flatMap((f) => f.samples.map((s) => [s.name, s.value, f.mode]))

  it("the exporter's own bytes (test/golden/wire.json): an idle livesum gauge dumps as 0.0", async () => {
    const {prefix: goldenPrefix, keys} = golden.cases['no-ttl']
    const now = String(await redisTime(ctx.redis))
    for (const [key, {fields}] of Object.entries(keys)) {
      await ctx.redis.hset(key, Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, v === '<time>' ? now : v])))
    }
    try {
      const {families} = await dump(ctx.redis, {prefix: goldenPrefix})
      expect(families.find((f) => f.name === 'g_livesum_idle')).toEqual({
        name: 'g_livesum_idle',
        type: 'gauge',
        help: 'livesum gauge never written',
        mode: 'livesum',
        samples: [{name: 'g_livesum_idle', labels: [], value: 0}],
      })
    } finally {
      await ctx.redis.unlink(...Object.keys(keys))
    }
  })

  it('equals prometheus_client: a worker that created a livemax gauge counts with 0 beside one that set it below 0', async () => {
    await gauge(101, 'livemax')
    await gauge(102, 'livemax', -5)
    await gauge(101, 'livesum', undefined, 'idle_sum')
    await gauge(102, 'livesum', undefined, 'idle_sum')
    const scenario = {
      metrics: [
        {kind: 'gauge', name: 'g', help: 'h', labelnames: [], mode: 'livemax'},
        {kind: 'gauge', name: 'idle_sum', help: 'h', labelnames: [], mode: 'livesum'},
      ],
      workers: [
        {pid: 101, ops: []},
        {pid: 102, ops: [{metric: 0, labels: null, op: 'set', amount: '-5.0'}]},
      ],
      dead: [],
    }
    const reference = execFileSync(PYTHON, [ORACLE], {input: JSON.stringify(scenario)}).toString()
    expect(reference).toContain('\ng 0.0\n')
    const result = await dump(ctx.redis, {prefix})
    // The reference's family order is its file order: compare family by family.
    const families = (text: string) => text.split(/(?=# HELP )/).sort()
    expect(families(generateLatest(result.families))).toEqual(families(reference))
    expect(result.stats.unsetGauges).toBe(3)
  })

  it("the mode comes from the pid's own meta, even when dump sees only that pid", async () => {
    await gauge(101, 'livemin')
    await gauge(102, 'livemin', 7)
    expect(await samples({pid: 101})).toEqual([['g', 0, 'livemin']])
    expect(await samples()).toEqual([['g', 0, 'livemin']])
  })

  it('without its meta, from the one mode other pids stored the series under; with neither, it is left out and counted', async () => {
    await gauge(101, 'livemin')
    await gauge(102, 'livemin', 7)
    await ctx.redis.unlink(...(await scanAll(ctx.redis, `${prefix}:gauge_livemin:101:meta:*`)))
    expect(await samples()).toEqual([['g', 0, 'livemin']])
    // Only pid 101 in view, and its meta gone: nothing says which mode its 0 belongs to.
    const alone = await dump(ctx.redis, {prefix, pid: 101})
    expect(alone.families).toEqual([])
    expect(alone.stats.skipped.artifacts).toBe(1)
    expect(alone.stats.unsetGauges).toBe(0)
  })

  it('a twin beside a key the pid wrote itself is what init left behind, not a value', async () => {
    await gauge(101, 'livesum', 3)
    await gauge(102, 'livesum', 4)
    const result = await dump(ctx.redis, {prefix})
    expect(result.families[0].samples.map((s) => s.value)).toEqual([7])
    expect(result.stats.skipped.artifacts).toBe(2)
    expect(result.stats.unsetGauges).toBe(0)
  })

  it('--live-within judges the worker by the write that created it; a dead worker shows no 0', async () => {
    await gauge(101, 'livesum')
    await gauge(102, 'livesum', 2)
    expect(await samples({liveWithinMs: 600_000})).toEqual([['g', 2, 'livesum']])
    const [twin] = await scanAll(ctx.redis, `${prefix}:gauge:101:metric:*`)
    await ctx.redis.hset(twin, 'updated_at', '1000.0')
    const stale = await dump(ctx.redis, {prefix, liveWithinMs: 600_000})
    expect(stale.deadPids).toEqual([101])
    expect(stale.families[0].samples.map((s) => s.value)).toEqual([2])
  })

  it('pid lists the unset gauge under its mode, with the key that holds its 0', async () => {
    await gauge(101, 'livemax')
    const report = await inspectPid(ctx.redis, {prefix, pid: 101})
    expect(report.series).toHaveLength(1)
    expect(report.series[0]).toMatchObject({metric: 'g', mode: 'livemax', value: 0, key: expect.stringMatching(new RegExp(`^${prefix}:gauge:101:metric:`))})
  })
})
