/**
 * dump, pids and pid through the CLI, on seeded data plus every kind of bad
 * data; promtool (Debian's prometheus package) checks the exposition.
 */
import {execFileSync} from 'node:child_process'

import {beforeAll, describe, expect, it} from 'vitest'

import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {RedisStorageManager} from '../../src/library/manager.js'
import {runCli, runCliOnTty} from '../helpers/cli.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'

describe('dump, pids, pid', () => {
  const ctx = useRedis()
  let clean: string
  beforeAll(async () => {
    expect((await runCli(['seed', '--pids', '4', '--series', '6'], ctx.env)).code).toBe(0)
    clean = (await runCli(['dump'], ctx.env)).stdout
  })

  it('the exposition passes promtool check metrics', () => {
    expect(clean).toMatch(/^# HELP /)
    const out = execFileSync('promtool', ['check', 'metrics'], {input: clean}).toString()
    expect(out).toBe('')
  })

  it('without permission to run scripts (ACL -@scripting): dump, pids and health need none and agree', async () => {
    await ctx.redis.call('ACL', 'SETUSER', 'noscripts', 'on', '>pw', '~*', '&*', '+@all', '-@scripting')
    const noScripts = {...ctx.env, REDIS_USERNAME: 'noscripts', REDIS_PASSWORD: 'pw'}
    const r = await runCli(['dump'], noScripts)
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(clean)
    // pids and health's census read on the same lane: no scripts either.
    const counts = (rows: {pid: number; metricKeys: number; series: number; keysWithoutTtl: number}[]) =>
      rows.map((x) => [x.pid, x.metricKeys, x.series, x.keysWithoutTtl])
    const pids = async (env: Record<string, string>) => counts(JSON.parse((await runCli(['pids', '--json'], env)).stdout))
    expect(await pids(noScripts)).toEqual(await pids(ctx.env))
    const census = async (env: Record<string, string>) => JSON.parse((await runCli(['health', '--json'], env)).stdout).keyspace
    expect(await census(noScripts)).toEqual(await census(ctx.env))
  })

  it('on a terminal a progress counter runs on stderr and is erased; in a pipe there is none', async () => {
    const tty = await runCliOnTty(['dump', '--format', 'prometheus'], ctx.env, '')
    expect(tty.code).toBe(0)
    expect(tty.screen).toMatch(/\rdump: [\d,]+ keys…\u001b\[K/)
    expect(tty.screen).toMatch(/\r\u001b\[K# HELP /)
    const piped = await runCli(['dump'], ctx.env)
    expect(piped.stderr).toBe('')
  })

  it('formats: prometheus when piped, json (the --json shape) and table on request', async () => {
    const json = await runCli(['dump', '--format', 'json', '--metric', 'gunicorn_worker_requests'], ctx.env)
    const {families} = JSON.parse(json.stdout)
    expect(families).toHaveLength(1)
    expect(families[0]).toMatchObject({name: 'gunicorn_worker_requests', type: 'counter'})
    const table = await runCli(['dump', '--format', 'wide', '--metric', 'gunicorn_free_threads'], ctx.env)
    expect(table.stdout).toMatch(/gauge \(livemin\)/)
  })

  it('--metric takes globs, --type filters, --mode sum folds a per-worker gauge', async () => {
    const glob = await runCli(['dump', '--metric', 'gunicorn_*_bytes'], ctx.env)
    expect([...glob.stdout.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1])).toEqual([
      'gunicorn_peak_memory_bytes',
      'gunicorn_worker_memory_bytes',
      'gunicorn_worker_response_size_bytes',
    ])
    const perWorker = await runCli(['dump', '--metric', 'gunicorn_worker_memory_bytes', '--json'], ctx.env)
    const samples = JSON.parse(perWorker.stdout).families[0].samples as {value: number}[]
    expect(samples).toHaveLength(4)
    const summed = await runCli(['dump', '--metric', 'gunicorn_worker_memory_bytes', '--mode', 'sum', '--json'], ctx.env)
    expect(JSON.parse(summed.stdout).families[0].samples).toEqual([
      {name: 'gunicorn_worker_memory_bytes', labels: {}, value: samples.reduce((a, s) => a + s.value, 0)},
    ])
    const hist = await runCli(['dump', '--type', 'histogram', '--json'], ctx.env)
    expect(JSON.parse(hist.stdout).families.map((f: {type: string}) => f.type)).toEqual(['histogram'])
  })

  it('--live-within judges a pid by all its writes, even when --metric or --type narrows the dump', async () => {
    const [gauge] = await scanAll(ctx.redis, 'gunicorn:gauge_livesum:10004:metric:*')
    const saved = await ctx.redis.hget(gauge, 'updated_at')
    await ctx.redis.hset(gauge, 'updated_at', '1000.0') // this gauge is old, the worker's other series are fresh
    try {
      const all = JSON.parse((await runCli(['dump', '--metric', 'gunicorn_active_requests', '--json'], ctx.env)).stdout)
      for (const narrow of [
        ['--metric', 'gunicorn_active_requests'],
        ['--type', 'gauge', '--metric', 'gunicorn_active_requests'],
      ]) {
        const r = JSON.parse((await runCli(['dump', ...narrow, '--live-within', '1h', '--json'], ctx.env)).stdout)
        expect(r.deadPids).toEqual([])
        expect(r.families).toEqual(all.families)
      }
    } finally {
      await ctx.redis.hset(gauge, 'updated_at', saved!)
    }
  })

  it('--pid shows one worker; --raw keeps a pid label on every sample', async () => {
    const one = await runCli(['dump', '--pid', '10002', '--metric', 'gunicorn_worker_memory_bytes'], ctx.env)
    expect(one.stdout).toMatch(/gunicorn_worker_memory_bytes\{pid="10002"\}/)
    expect(one.stdout).not.toMatch(/pid="10001"/)
    const raw = await runCli(['dump', '--raw', '--metric', 'gunicorn_cache_entries'], ctx.env)
    expect(raw.stdout.match(/^gunicorn_cache_entries\{pid="\d+"\}/gm)).toHaveLength(4)
    expect(execFileSync('promtool', ['check', 'metrics'], {input: raw.stdout}).toString()).toBe('')
  })

  it('bad data never crashes a dump: skipped, counted in one warning, --strict exits 6', async () => {
    const prefix = 'gunicorn'
    const id = originalKey('bad_json_metric', 'bad_json_metric', {}, 'h')
    const h = md5Hex(id)
    await ctx.redis.set(`${prefix}:counter:777:metric:${'a'.repeat(32)}`, 'a string, not a hash')
    await ctx.redis.hset(`${prefix}:counter:777:metric:${'b'.repeat(32)}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'}) // no meta
    await ctx.redis.hset(`${prefix}:counter:777:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
    await ctx.redis.hset(`${prefix}:counter:777:meta:${h}`, {original_key: '{not json'})
    const badNum = originalKey('bad_number', 'bad_number_total', {}, 'h')
    await ctx.redis.hset(`${prefix}:counter:777:metric:${md5Hex(badNum)}`, {value: 'one', timestamp: '0.0', updated_at: '1.0'})
    await ctx.redis.hset(`${prefix}:counter:777:meta:${md5Hex(badNum)}`, {original_key: badNum})
    const badName = originalKey('bad name!', 'bad name!_total', {}, 'h')
    await ctx.redis.hset(`${prefix}:counter:777:metric:${md5Hex(badName)}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
    await ctx.redis.hset(`${prefix}:counter:777:meta:${md5Hex(badName)}`, {original_key: badName})
    // Another application under a nested prefix, with data that would otherwise join our sums.
    const shadow = originalKey('gunicorn_worker_requests', 'gunicorn_worker_requests_total', {method: 'GET', path: '/', status: '201'}, 'x')
    await ctx.redis.hset(`${prefix}:shadow:counter:1:metric:${md5Hex(shadow)}`, {value: '1000.0', timestamp: '0.0', updated_at: '1.0'})
    await ctx.redis.hset(`${prefix}:shadow:counter:1:meta:${md5Hex(shadow)}`, {original_key: shadow})
    try {
      const r = await runCli(['dump'], ctx.env)
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(clean)
      const warnings = r.stderr.trim().split('\n')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^warning: skipped 5 keys .*1 non-hash, 1 orphans, 1 bad-json, 1 bad-number, 1 bad-name/)
      expect(warnings[0]).toMatch(/1 other-prefix/)
      const strict = await runCli(['dump', '--strict'], ctx.env)
      expect(strict.code).toBe(6)
      expect(strict.stdout).toBe('')
      expect(strict.stderr.trim().split('\n')).toHaveLength(1)
    } finally {
      const ours = await scanAll(ctx.redis, `${prefix}:counter:777:*`)
      await ctx.redis.unlink(...ours, ...(await scanAll(ctx.redis, `${prefix}:shadow:*`)))
    }
  })

  it('a prefix with glob characters is matched literally', async () => {
    const special = 'app[1]*:metrics?'
    expect((await runCli(['seed', '--prefix', special, '--pids', '1', '--series', '1'], ctx.env)).code).toBe(0)
    // A neighbour the unescaped pattern app[1]*:metrics?:* would also match.
    await ctx.redis.hset('app1xx:metricsZ:counter:1:metric:' + 'c'.repeat(32), {value: '5.0', timestamp: '0.0', updated_at: '1.0'})
    const r = await runCli(['dump', '--prefix', special, '--json'], ctx.env)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).stats.scannedKeys).toBeGreaterThan(0)
    expect(r.stderr).toBe('')
    const keys = await runCli(['keys', '--prefix', special], ctx.env)
    expect(
      keys.stdout
        .split('\n')
        .filter(Boolean)
        .every((k) => k.startsWith(special + ':')),
    ).toBe(true)
  })

  it('pids: one row per worker with keys, series, age and TTLs', async () => {
    const r = await runCli(['pids', '--json', '--local'], ctx.env)
    const rows = JSON.parse(r.stdout)
    expect(rows.map((x: {pid: number}) => x.pid)).toEqual([10_001, 10_002, 10_003, 10_004])
    for (const row of rows) {
      expect(row.series + row.artifacts).toBe(row.metricKeys)
      expect(row.artifacts).toBe(5) // livesum, livemax, livemin, mostrecent, livemostrecent
      expect(row.ageSeconds).toBeGreaterThanOrEqual(0)
      expect(row.minTtl).toBeGreaterThan(0)
      expect(row.local).toBe(false)
    }
  })

  it('pids agrees with the keys themselves, a non-hash key and a key without TTL included', async () => {
    // Data of its own, written now: the shared seed's TTLs may run out on a slow machine before this test runs.
    const prefix = 'truth'
    const env = {...ctx.env, REDIS_KEY_PREFIX: prefix}
    expect((await runCli(['seed', '--pids', '3', '--series', '4'], env)).code).toBe(0)
    await ctx.redis.set(`${prefix}:counter:10002:metric:${'e'.repeat(32)}`, 'not a hash', 'EX', 500)
    await ctx.redis.hset(`${prefix}:counter:10003:metric:${'f'.repeat(32)}`, {value: '1.0', timestamp: '0.0', updated_at: '9999999999.5'})
    try {
      const keys = await scanAll(ctx.redis, `${prefix}:*:*:metric:*`)
      // TTLs tick while pids runs: it reads each key's between a reading before it and one after it, and
      // its minimum and maximum (in whole seconds, rounded up) lie between theirs, however slow the machine.
      const pttls = async () => {
        const p = ctx.redis.pipeline()
        for (const key of keys) p.pttl(key)
        return (await p.exec())!.map(([, ms]) => ms as number)
      }
      const before = await pttls()
      const rows = JSON.parse((await runCli(['pids', '--json'], env)).stdout) as {
        pid: number
        metricKeys: number
        series: number
        artifacts: number
        newestWrite: number | null
        minTtl: number | null
        maxTtl: number | null
        keysWithoutTtl: number
      }[]
      const after = await pttls()
      // Ground truth, key by key, with the test's own client.
      type Truth = {metricKeys: number; artifacts: number; newestWrite: number | null; keysWithoutTtl: number; ttls: [number, number][]}
      const expected = new Map<number, Truth>()
      for (const [i, key] of keys.entries()) {
        const [, type, pid] = key.split(':')
        const row = expected.get(Number(pid)) ?? {metricKeys: 0, artifacts: 0, newestWrite: null, keysWithoutTtl: 0, ttls: []}
        expected.set(Number(pid), row)
        row.metricKeys++
        if (type === 'gauge') row.artifacts++
        const updated = (await ctx.redis.type(key)) === 'hash' ? await ctx.redis.hget(key, 'updated_at') : null
        if (updated !== null) row.newestWrite = Math.max(row.newestWrite ?? -Infinity, Number(updated))
        if (before[i] === -1) row.keysWithoutTtl++
        else row.ttls.push([Math.ceil(after[i] / 1000), Math.ceil(before[i] / 1000)])
      }
      expect(rows.map((r) => r.pid)).toEqual([...expected.keys()].sort())
      for (const row of rows) {
        const want = expected.get(row.pid)!
        expect({metricKeys: row.metricKeys, artifacts: row.artifacts, newestWrite: row.newestWrite, keysWithoutTtl: row.keysWithoutTtl}).toEqual({
          metricKeys: want.metricKeys,
          artifacts: want.artifacts,
          newestWrite: want.newestWrite,
          keysWithoutTtl: want.keysWithoutTtl,
        })
        expect(row.series).toBe(want.metricKeys - want.artifacts)
        const lowest = (i: 0 | 1) => Math.min(...want.ttls.map((t) => t[i]))
        const highest = (i: 0 | 1) => Math.max(...want.ttls.map((t) => t[i]))
        expect(row.minTtl).toBeGreaterThanOrEqual(lowest(0))
        expect(row.minTtl).toBeLessThanOrEqual(lowest(1))
        expect(row.maxTtl).toBeGreaterThanOrEqual(highest(0))
        expect(row.maxTtl).toBeLessThanOrEqual(highest(1))
      }
      expect([...expected.values()].some((w) => w.keysWithoutTtl > 0)).toBe(true)
    } finally {
      await ctx.redis.unlink(...(await scanAll(ctx.redis, `${prefix}:*`)))
    }
  })

  it('pid: every series of one worker with value, timestamp, age and TTL', async () => {
    const r = await runCli(['pid', '10003', '--json'], ctx.env)
    const report = JSON.parse(r.stdout)
    const gauge = report.series.find((s: {metric: string}) => s.metric === 'gunicorn_worker_memory_bytes')
    expect(gauge).toMatchObject({type: 'gauge', mode: 'all', ttl: expect.any(Number)})
    expect(gauge.timestamp).toBeGreaterThan(1e9)
    const counter = report.series.find((s: {type: string}) => s.type === 'counter')
    expect(counter.timestamp).toBe(0)
    const missing = await runCli(['pid', '4242'], ctx.env)
    expect(missing.code).toBe(8)
    expect(missing.stderr).toMatch(/^error: pid 4242 has no keys under prefix "gunicorn"/)
    const bad = await runCli(['pid', 'abc'], ctx.env)
    expect(bad.code).toBe(2)
  })

  it('the library collector gives what the CLI dumps, plus registered local metrics', async () => {
    const manager = new RedisStorageManager({config: {...(await import('../../src/config/load.js')).loadConfig(ctx.env).config}})
    try {
      await manager.setup()
      const collector = manager.getCollector()!
      const local = {collect: () => [{name: 'aaa_local', type: 'gauge' as const, help: 'local', samples: [{name: 'aaa_local', labels: [], value: 1}]}]}
      collector.register(local)
      const families = await collector.collect()
      expect(families[0].name).toBe('aaa_local')
      expect((await collector.describe()).map((d) => d.name)).toContain('gunicorn_worker_requests')
      collector.unregister(local)
      expect((await collector.collect()).map((f) => f.name)).not.toContain('aaa_local')
      expect((await manager.healthCheck()).healthy).toBe(true)
    } finally {
      await manager.close()
    }
  })
})
