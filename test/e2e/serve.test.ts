/**
 * `redismp serve`'s page as Prometheus meets it: a real process on a free
 * port, real HTTP (Node's fetch), promtool on the page, and `redismp dump`
 * as the oracle of its body; walks shared by concurrent scrapes and never
 * overlapping. Faults (Redis down, SIGTERM) and --prune-every: serve-faults.test.ts.
 */
import {execFileSync} from 'node:child_process'
import {request} from 'node:http'
import {gunzipSync} from 'node:zlib'

import {beforeAll, describe, expect, it} from 'vitest'

import {formatKey} from '../../src/metrics/keys.js'
import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {runCli} from '../helpers/cli.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'
import {families, populate, scrape, seedStore, SELF, startServe, until, value} from '../helpers/serve.js'

describe('serve: the page', () => {
  const ctx = useRedis()
  beforeAll(async () => {
    await seedStore(ctx.redis, 4, 6)
  })

  it("/metrics is dump's exposition for the same flags, then the self-metrics; promtool accepts it; gzip carries the same bytes", async () => {
    const flags = ['--metric', 'gunicorn_*', '--live-within', '10m']
    const [dump, s] = await Promise.all([runCli(['dump', ...flags], ctx.env), startServe(['--refresh', '0', ...flags], ctx.env)])
    expect(dump.code).toBe(0)
    expect(dump.stdout).toMatch(/^# HELP gunicorn_/)
    const page = await scrape(s)
    expect(page.status).toBe(200)
    expect(page.type).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(page.body.startsWith(dump.stdout)).toBe(true)
    const self = page.body.slice(dump.stdout.length)
    expect(families(self).filter((f) => !SELF.test(f))).toEqual([])
    for (const name of [
      'redis_connections_total',
      'redis_operations_total',
      'redis_operation_duration_seconds',
      'redis_errors_total',
      'redismp_up',
      'redismp_walks_total',
      'redismp_walk_duration_seconds',
      'redismp_walk_keys',
      'redismp_walk_samples',
      'redismp_walk_skipped_keys',
      'redismp_walk_last_success_timestamp_seconds',
      'redismp_data_age_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(families(self)).toContain(name)
    }
    expect(value(self, 'redismp_up')).toBe(1)
    expect(value(self, 'redismp_walk_skipped_keys{reason="artifacts"}')).toBeGreaterThan(0)
    expect(value(self, 'redis_operations_total{operation="walk"}')).toBe(1)
    // Every family once on the page, and promtool finds nothing to say.
    expect(new Set(families(page.body)).size).toBe(families(page.body).length)
    expect(execFileSync('promtool', ['check', 'metrics'], {input: page.body}).toString()).toBe('')

    // What a scraper that accepts gzip gets: a gzip stream (two members) of the same exposition.
    const raw = await new Promise<{encoding?: string; bytes: Buffer}>((resolve, reject) => {
      request(s.base + '/metrics', {headers: {'accept-encoding': 'gzip'}}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({encoding: res.headers['content-encoding'], bytes: Buffer.concat(chunks)}))
      })
        .on('error', reject)
        .end()
    })
    expect(raw.encoding).toBe('gzip')
    const unzipped = gunzipSync(raw.bytes).toString()
    expect(unzipped.startsWith(dump.stdout)).toBe(true)
    expect(families(unzipped)).toEqual(families(page.body))

    expect(await scrape(s, '/healthz')).toMatchObject({status: 200, body: 'ok\n'})
    expect(await scrape(s, '/readyz')).toMatchObject({status: 200, body: 'ok\n'})
    expect((await scrape(s, '/nothing')).status).toBe(404)
    expect(await s.stop()).toBe(0)
    expect(s.stderr()).toMatch(/^serving http:\/\/127\.0\.0\.1:\d+\/metrics/)
  })

  it('a store family with the name of a self-metric is served instead of it, with one warning; a port in use is exit 2', async () => {
    const id = originalKey('redis_connections', 'redis_connections_total', {}, 'A family of the application.')
    const hash = md5Hex(id)
    await ctx.redis.hset(formatKey('gunicorn', 'counter', 7, 'metric', hash), 'value', '42.0', 'timestamp', '0.0', 'updated_at', '1700000000.5')
    await ctx.redis.hset(formatKey('gunicorn', 'counter', 7, 'meta', hash), 'original_key', id, 'created_at', '1700000000.5')
    try {
      const s = await startServe(['--refresh', '0'], ctx.env)
      const taken = runCli(['serve', '--listen', `127.0.0.1:${s.port}`], ctx.env)
      await scrape(s)
      await scrape(s)
      const page = (await scrape(s)).body
      expect(families(page).filter((f) => f === 'redis_connections_total')).toHaveLength(1)
      expect(page).toMatch(/^# HELP redis_connections_total A family of the application\.$/m)
      expect(value(page, 'redis_connections_total')).toBe(42)
      expect(families(page)).toContain('redis_operations_total')
      expect(execFileSync('promtool', ['check', 'metrics'], {input: page}).toString()).toBe('')
      expect(await taken).toMatchObject({code: 2, stderr: `error: cannot listen on 127.0.0.1:${s.port}: the address is already in use\n`})
      expect(await s.stop()).toBe(0)
      expect(s.stderr().match(/warning: .*redis_connections_total/g)).toHaveLength(1)
    } finally {
      await ctx.redis.unlink(...(await scanAll(ctx.redis, 'gunicorn:counter:7:*')))
    }
  })

  it('bad settings exit 2 naming the variable or flag', async () => {
    const [port, listen, refresh, prune] = await Promise.all([
      runCli(['serve'], {...ctx.env, PROMETHEUS_METRICS_PORT: 'abc'}),
      runCli(['serve', '--listen', 'localhost'], ctx.env),
      runCli(['serve', '--refresh', '15'], ctx.env),
      runCli(['serve', '--stale', '10m'], ctx.env),
    ])
    expect(port).toMatchObject({code: 2, stderr: 'error: PROMETHEUS_METRICS_PORT: expected a port number from 1 to 65535, got "abc"\n'})
    expect(listen.code).toBe(2)
    expect(listen.stderr).toMatch(/^error: --listen: expected HOST:PORT such as 127\.0\.0\.1:9091 or :9091, got "localhost"\n$/)
    expect(refresh.code).toBe(2)
    expect(refresh.stderr).toMatch(/^error: --refresh 15: expected a duration with a unit/)
    expect(prune.code).toBe(2)
    expect(prune.stderr).toMatch(/^error: prune's flags .* need --prune-every\n$/)
  })
})

describe('serve: walks shared, never overlapping', () => {
  const ctx = useRedis()
  beforeAll(async () => {
    await populate(ctx.redis, 'gunicorn', 5000)
  })

  it('50 concurrent scrapes during a walk all get 200 and the same store part, from shared walks', async () => {
    const [dump, s] = await Promise.all([runCli(['dump'], ctx.env), startServe(['--refresh', '0'], ctx.env)])
    expect(dump.stdout).toMatch(/^# HELP bulk_requests_total /)
    const pages = await Promise.all(Array.from({length: 50}, () => scrape(s)))
    expect(pages.map((p) => p.status)).toEqual(new Array(50).fill(200))
    for (const p of pages) expect(p.body.slice(0, dump.stdout.length)).toBe(dump.stdout)
    const after = (await scrape(s)).body
    // One walk per scrape would be 51; scrapes that came during a walk shared it.
    const walks = value(after, 'redismp_walks_total{result="success"}')!
    expect(walks).toBeGreaterThanOrEqual(1)
    expect(walks).toBeLessThan(51)
    expect(value(after, 'redismp_walk_keys')).toBe(5000)
    expect(await s.stop()).toBe(0)
  })

  it('background refreshes never overlap: the walks that ended between two scrapes fit between the ends of the walks before them', async () => {
    const s = await startServe(['--refresh', '1ms'], ctx.env)
    const read = async () => {
      const page = (await scrape(s)).body
      return {
        count: value(page, 'redismp_walk_duration_seconds_count')!,
        sum: value(page, 'redismp_walk_duration_seconds_sum')!,
        end: value(page, 'redismp_walk_last_success_timestamp_seconds')!,
        failed: value(page, 'redismp_walks_total{result="failure"}'),
      }
    }
    const a = await read()
    const b = await until('five more walks', async () => {
      const r = await read()
      return r.count >= a.count + 5 ? r : undefined
    })
    expect(a.failed ?? 0).toBe(0)
    expect(b.failed ?? 0).toBe(0)
    // Serial walks that ended in (a.end, b.end] each began after a.end: their durations add up to no more than
    // b.end - a.end (plus a millisecond of rounding per walk). Walks that overlapped would add up to more.
    const walks = b.count - a.count
    expect(b.sum - a.sum).toBeLessThanOrEqual(b.end - a.end + 0.002 * walks)
    expect(await s.stop()).toBe(0)
  })
})
