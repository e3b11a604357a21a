/**
 * health, keys and seed end to end: real redis-server, real CLI processes,
 * stdout (data) and stderr (messages) checked apart.
 */
import {execFileSync} from 'node:child_process'

import {beforeAll, describe, expect, it} from 'vitest'

import {runCli, startCli} from '../helpers/cli.js'
import {scanAll, startRedis, useRedis} from '../helpers/redis-server.js'

const H = '0123456789abcdef0123456789abcdef'

describe('seed, keys, health', () => {
  const ctx = useRedis()
  beforeAll(async () => {
    const seeded = await runCli(['seed', '--pids', '3', '--series', '5'], ctx.env)
    expect(seeded.code).toBe(0)
    // Another application under a nested prefix, and foreign data under ours.
    await ctx.redis.hset(`gunicorn:shadow:counter:1:metric:${H}`, 'value', '1.0')
    await ctx.redis.set('gunicorn:not-a-metric', 'x')
  })

  it('seed refuses a prefix that holds data (exit 4) and --force adds to it', async () => {
    const refused = await runCli(['seed'], ctx.env)
    expect(refused.code).toBe(4)
    expect(refused.stderr).toMatch(/already holds keys.*--force/)
    const other = await runCli(['seed', '--prefix', 'forced', '--pids', '1', '--series', '1', '--json'], ctx.env)
    expect(other.code).toBe(0)
    expect(JSON.parse(other.stdout)).toMatchObject({prefix: 'forced', pids: [10_001]})
    const again = await runCli(['seed', '--prefix', 'forced', '--pids', '1', '--series', '1', '--pid-base', '555', '--force'], ctx.env)
    expect(again.code).toBe(0)
    await ctx.redis.unlink(...(await scanAll(ctx.redis, 'forced:*')))
  })

  it('a foreign non-hash key where a write must go: exit 6, one line naming the key', async () => {
    const [meta] = await scanAll(ctx.redis, 'gunicorn:counter:10001:meta:*')
    const saved = await ctx.redis.hgetall(meta)
    const ttl = await ctx.redis.pttl(meta)
    await ctx.redis.del(meta)
    await ctx.redis.set(meta, 'not a hash')
    try {
      const r = await runCli(['seed', '--pids', '1', '--series', '5', '--force'], ctx.env)
      expect(r.code).toBe(6)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(`foreign data: key "${meta}" is not of the type the exporter writes`)
    } finally {
      await ctx.redis.del(meta)
      await ctx.redis.hset(meta, saved)
      await ctx.redis.pexpire(meta, ttl)
    }
  })

  it('seed: the same seed writes the same data, and --series gives that many distinct series', async () => {
    for (const prefix of ['same1', 'same2']) {
      expect((await runCli(['seed', '--prefix', prefix, '--pids', '2', '--series', '60', '--seed', '7'], ctx.env)).code).toBe(0)
    }
    const raw1 = (await runCli(['dump', '--prefix', 'same1', '--raw'], ctx.env)).stdout
    const raw2 = (await runCli(['dump', '--prefix', 'same2', '--raw'], ctx.env)).stdout
    expect(raw1).toBe(raw2)
    expect(raw1.match(/^gunicorn_worker_requests_total\{.*pid="10001".*\}/gm)).toHaveLength(60)
    await ctx.redis.unlink(...(await scanAll(ctx.redis, 'same?:*')))
  })

  it('keys lists exactly what redis-cli --scan finds, less the nested prefix', async () => {
    const cli = execFileSync('redis-cli', ['-p', String(ctx.server.port), '--scan', '--pattern', 'gunicorn:*'])
      .toString()
      .trim()
      .split('\n')
    const expected = [...new Set(cli)].filter((k) => !k.startsWith('gunicorn:shadow:')).sort()
    const r = await runCli(['keys'], ctx.env)
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n').sort()).toEqual(expected)
    expect(r.stderr).toBe('')
  })

  it('keys filters by type, mode, pid and kind, and --resolve names the metric', async () => {
    const r = await runCli(['keys', '--type', 'gauge', '--mode', 'livesum', '--pid', '10002', '--kind', 'metric', '--resolve', '--json'], ctx.env)
    expect(r.code).toBe(0)
    const {keys} = JSON.parse(r.stdout) as {keys: {key: string; metric: string; ttl: number}[]}
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({key: expect.stringMatching(/^gunicorn:gauge_livesum:10002:metric:/), metric: 'gunicorn_active_requests'})
    expect(keys[0].ttl).toBeGreaterThan(0)
    const table = await runCli(['keys', 'gauge:*', '--format', 'table'], ctx.env)
    expect(table.stdout).toContain('gauge (artifact)')
  })

  it('keys streams into a pipe, and a reader that leaves early (| head) is not an error', async () => {
    const p = ctx.redis.pipeline()
    for (let i = 0; i < 30_000; i++) p.hset(`gunicorn:counter:${20_000 + i}:metric:${H}`, 'value', '1.0')
    await p.exec()
    try {
      const run = startCli(['keys'], ctx.env)
      await new Promise((resolve) => run.child.stdout!.once('data', resolve))
      run.child.stdout!.destroy()
      const r = await run.done
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
    } finally {
      await ctx.redis.unlink(...(await scanAll(ctx.redis, `gunicorn:counter:*:metric:${H}`)))
    }
  })

  it("keys in lines reads no TTL: SCAN is all it sends (tsv still reads each key's PTTL), and filters keep what --json lists", async () => {
    const pttls = async () => Number(/^cmdstat_pttl:calls=(\d+)/m.exec(await ctx.redis.info('commandstats'))?.[1] ?? 0)
    const before = await pttls()
    const r = await runCli(['keys'], ctx.env)
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(20)
    expect(await pttls()).toBe(before)
    const filters = ['--type', 'gauge', '--pid', '10002', '--kind', 'metric']
    const lines = await runCli(['keys', ...filters], ctx.env)
    expect(await pttls()).toBe(before)
    const json = JSON.parse((await runCli(['keys', ...filters, '--json'], ctx.env)).stdout) as {keys: {key: string}[]}
    expect(json.keys.length).toBeGreaterThan(1)
    expect(lines.stdout.trim().split('\n').sort()).toEqual(json.keys.map((k) => k.key))
    // The count is right: a listing that shows TTLs asks one PTTL per key it lists.
    const tsv = await runCli(['keys', '-o', 'tsv'], ctx.env)
    expect(await pttls()).toBe(before + json.keys.length + tsv.stdout.trim().split('\n').length - 1)
  })

  it('keys --limit stops early and says so on stderr only', async () => {
    const r = await runCli(['keys', '--limit', '3'], ctx.env)
    expect(r.stdout.trim().split('\n')).toHaveLength(3)
    expect(r.stderr).toMatch(/stopped at --limit 3/)
  })

  it('health summarises the keyspace and warns without failing', async () => {
    const r = await runCli(['health', '--json'], ctx.env)
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({healthy: true, probe: {ok: true}, server: {role: 'master'}})
    expect(report.keyspace).toMatchObject({pids: 3, foreignKeys: 1, otherPrefixKeys: 1, keysWithoutTtl: 0})
    expect(report.keyspace.artifacts).toBeGreaterThan(0)
    expect(report.keyspace.metricKeys).toBe(report.keyspace.metaKeys)
    expect(r.stderr).toMatch(/1 key under the prefix is not exporter data/)
  })

  it("health's census agrees with the keys themselves: non-hash, other-fields, no-TTL, foreign and nested-prefix keys included", async () => {
    const extra = {
      nonHash: `gunicorn:counter:77:metric:${'a'.repeat(32)}`,
      // A hash, but not of the exporter's shape: what prune and flushdb leave alone, health counts with the non-hash keys.
      otherFields: `gunicorn:counter:79:metric:${'d'.repeat(32)}`,
      noTtl: `gunicorn:gauge_max:78:meta:${'b'.repeat(32)}`,
      foreign: 'gunicorn:something-else',
      nested: `gunicorn:shadow:counter:1:metric:${'c'.repeat(32)}`,
    }
    await ctx.redis.set(extra.nonHash, 'x', 'EX', 600)
    await ctx.redis.hset(extra.otherFields, {value: '1.0', note: 'not ours'})
    await ctx.redis.hset(extra.noTtl, {original_key: '["g", "g", {}, ""]'})
    await ctx.redis.set(extra.foreign, '1')
    await ctx.redis.hset(extra.nested, {value: '1.0'})
    try {
      const want = {metricKeys: 0, metaKeys: 0, pids: 0, keysWithoutTtl: 0, artifacts: 0, foreignKeys: 0, nonHashKeys: 0, otherPrefixKeys: 0}
      const pids = new Set<string>()
      for (const key of await scanAll(ctx.redis, 'gunicorn:*')) {
        if (key.startsWith('gunicorn:redismp:')) continue
        const parts = key.split(':')
        // The last four segments: type, pid, kind, md5; what is before them must be exactly `gunicorn`.
        const tail = parts.slice(-4)
        const shaped =
          parts.length >= 5 &&
          /^(counter|histogram|summary|gauge(_\w+)?)$/.test(tail[0]) &&
          /^[1-9]\d*$/.test(tail[1]) &&
          /^(metric|meta)$/.test(tail[2]) &&
          /^[0-9a-f]{32}$/.test(tail[3])
        if (!shaped || parts.length > 5) {
          if (shaped) want.otherPrefixKeys++
          else want.foreignKeys++
          continue
        }
        const fields = (await ctx.redis.type(key)) === 'hash' ? await ctx.redis.hkeys(key) : []
        const exporterShape =
          tail[2] === 'metric'
            ? ['value', 'timestamp', 'updated_at'].every((f) => fields.includes(f))
            : fields.includes('original_key') || fields.includes('multiprocess_mode')
        if (!exporterShape) {
          want.nonHashKeys++
          want.foreignKeys++
          continue
        }
        if (tail[2] === 'metric') want.metricKeys++
        else want.metaKeys++
        if (tail[0] === 'gauge') want.artifacts++
        if ((await ctx.redis.pttl(key)) === -1) want.keysWithoutTtl++
        pids.add(tail[1])
      }
      want.pids = pids.size
      const r = await runCli(['health', '--json'], ctx.env)
      expect(JSON.parse(r.stdout).keyspace).toEqual(want)
      expect(want).toMatchObject({nonHashKeys: 2, keysWithoutTtl: 1})
    } finally {
      await ctx.redis.unlink(...Object.values(extra))
    }
  })

  it('health --no-keyspace is a fast probe: no census, still checks the write path', async () => {
    const r = await runCli(['health', '--no-keyspace', '--json'], ctx.env)
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.keyspace).toBeUndefined()
    expect(report).toMatchObject({healthy: true, probe: {ok: true}})
    expect(r.stderr).toBe('')
  })

  it('health --strict turns warnings into exit 6 and still prints the report', async () => {
    await ctx.redis.persist((await scanAll(ctx.redis, 'gunicorn:counter:10001:metric:*'))[0])
    await ctx.redis.config('SET', 'maxmemory', '1gb')
    await ctx.redis.config('SET', 'maxmemory-policy', 'allkeys-lru')
    try {
      const lenient = await runCli(['health'], ctx.env)
      expect(lenient.code).toBe(0)
      expect(lenient.stderr).toMatch(/maxmemory-policy allkeys-lru can evict metric keys/)
      expect(lenient.stderr).toMatch(/1 key has no TTL/)
      const strict = await runCli(['health', '--strict', '--json'], ctx.env)
      expect(strict.code).toBe(6)
      expect(JSON.parse(strict.stdout).warnings.length).toBeGreaterThanOrEqual(3)
    } finally {
      await ctx.redis.config('SET', 'maxmemory', '0')
      await ctx.redis.config('SET', 'maxmemory-policy', 'noeviction')
    }
  })

  it('health on a replica is unhealthy (exit 6): workers cannot write there', async () => {
    const replica = await startRedis({extraArgs: ['--replicaof', '127.0.0.1', String(ctx.server.port)]})
    try {
      const r = await runCli(['health'], replica.env())
      expect(r.code).toBe(6)
      expect(r.stdout).toMatch(/UNHEALTHY/)
      expect(r.stderr).toMatch(/error: unhealthy: .*(READONLY|replica|slave)/)
    } finally {
      await replica.stop()
    }
  })

  it('never colours with NO_COLOR, even on a terminal-like run', async () => {
    const r = await runCli(['keys', '--format', 'table', '--limit', '1'], {...ctx.env, FORCE_COLOR: '3'})
    expect(r.stdout + r.stderr).not.toMatch(/\u001b\[/)
  })
})
