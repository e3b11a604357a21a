/**
 * Whoever can write to the Redis can write anything: control characters in
 * key names, label values and help, names that are not Prometheus names,
 * timestamps no date holds, updated_at of inf or nan, megabyte-long keys, and
 * key names that do not parse. Written here by real clients (ioredis, and our
 * RedisValue as the exporter would write), read back through the real CLI.
 */
import {execFileSync} from 'node:child_process'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {RedisValue} from '../../src/storage/value.js'
import {runCli, runCliOnTty} from '../helpers/cli.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'

/** Anything a terminal would act on: C0 but newline, DEL, C1, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/
const OSC52 = '\u001b]52;c;aGVsbG8=\u0007'
const H = '0123456789abcdef0123456789abcdef'

const promtool = (text: string) => execFileSync('promtool', ['check', 'metrics'], {input: text}).toString()

describe('hostile data', () => {
  const ctx = useRedis()
  const env = (prefix: string) => ({...ctx.env, REDIS_KEY_PREFIX: prefix})

  /** A series as the exporter writes it (RedisValue), for one pid. */
  async function write(
    prefix: string,
    pid: number,
    p: {typ?: string; metric: string; name?: string; labels?: Record<string, string>; help?: string; mode?: string},
    op: (v: RedisValue) => Promise<void>,
  ) {
    const labels = p.labels ?? {}
    const v = await RedisValue.create(new RedisStorageDict(ctx.redis, prefix, {pid}), {
      typ: p.typ ?? 'gauge',
      metricName: p.metric,
      name: p.name ?? p.metric,
      labelnames: Object.keys(labels),
      labelvalues: Object.values(labels),
      help: p.help ?? 'h',
      multiprocessMode: p.mode ?? 'all',
    })
    await op(v)
  }

  describe('item 6: bytes from Redis never reach a terminal raw', () => {
    const prefix = 'h6'
    const victim = 'elsewhere:victim'
    const hostileKeys = [
      `${prefix}:counter:1:metric:${H}\n${victim}`, // a newline forging a line outside the prefix
      `${prefix}:x ${victim}`, // xargs splits on blanks
      `${prefix}:${OSC52}`, // a clipboard write
      `${prefix}:csi\u009b2J`, // C1 CSI
      `${prefix}:q'"\\`, // xargs reads quotes and backslashes
    ]
    beforeAll(async () => {
      expect((await runCli(['seed', '--pids', '2', '--series', '2'], env(prefix))).code).toBe(0)
      await ctx.redis.set(victim, 'not under the prefix')
      for (const key of hostileKeys) await ctx.redis.hset(key, 'value', '1.0')
      // Hostile label values and help (valid names: prometheus_client outputs them), and names that are not names.
      await write(prefix, 4242, {metric: 'hostile_labels', labels: {path: OSC52, method: 'GET\nforged 1'}, help: `Help ${OSC52} \u009b2J`}, (v) => v.set(1))
      const forged = originalKey('forge', 'forge{job="x"} 1\nforged_metric', {}, 'h')
      const badLabel = originalKey('bad_label', 'bad_label', {'bad\nname': 'v'}, 'h')
      const outsideFamily = originalKey('fam', 'fam_other', {}, 'h')
      for (const id of [forged, badLabel, outsideFamily]) {
        await ctx.redis.hset(`${prefix}:gauge_all:4242:metric:${md5Hex(id)}`, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
        await ctx.redis.hset(`${prefix}:gauge_all:4242:meta:${md5Hex(id)}`, {original_key: id})
      }
    })
    afterAll(async () => {
      await ctx.redis.unlink(victim, ...(await scanAll(ctx.redis, `${prefix}:*`)))
    })

    it('keys in a pipe: a key that one line cannot carry is left out and counted, so xargs only ever sees whole keys under the prefix', async () => {
      const r = await runCli(['keys'], env(prefix))
      expect(r.code).toBe(0)
      const warnings = r.stderr.trim().split('\n')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^warning: left out 5 keys whose names hold control characters/)
      const lines = r.stdout.trim().split('\n')
      const all = new Set(await scanAll(ctx.redis, `${prefix}:*`))
      for (const line of lines) expect(all.has(line)).toBe(true)
      // What `keys | xargs redis-cli del` would delete: each argument a whole key under the prefix.
      const args = execFileSync('xargs', ['-n1', 'printf', '%s\\n'], {input: r.stdout}).toString().trim().split('\n')
      expect(args).toEqual(lines)
      expect(args.every((a) => a.startsWith(`${prefix}:`))).toBe(true)
      expect(r.stdout).not.toContain(victim)
    })

    it('keys in a pipe under a prefix that one line cannot carry: every key left out and counted, foreign ones too', async () => {
      const spaced = 'my app'
      const keys = [`${spaced}:counter:1:metric:${H}`, `${spaced}:counter:1:meta:${H}`, `${spaced}:not-a-metric`]
      for (const key of keys) await ctx.redis.hset(key, 'value', '1.0')
      try {
        const r = await runCli(['keys'], env(spaced))
        expect(r.code).toBe(0)
        expect(r.stdout).toBe('')
        expect(r.stderr.trim()).toMatch(/^warning: left out 3 keys whose names hold control characters/)
      } finally {
        await ctx.redis.unlink(...keys)
      }
    })

    it('keys as a table (and --resolve): every hostile name escaped, one row each', async () => {
      const r = await runCli(['keys', '--format', 'table', '--resolve'], env(prefix))
      expect(r.code).toBe(0)
      expect(r.stdout).not.toMatch(RAW_CONTROL)
      expect(r.stdout).toContain(`${prefix}:\\x1b]52;c;aGVsbG8=\\x07`)
      expect(r.stdout).toContain(`${prefix}:csi\\u009b2J`)
      expect(r.stdout).toContain(`${prefix}:counter:1:metric:${H}\\nelsewhere:victim`)
      const rows = JSON.parse((await runCli(['keys', '--json'], env(prefix))).stdout).keys.length
      expect(r.stdout.trim().split('\n')).toHaveLength(rows + 2)
    })

    it('dump: names that are not Prometheus names are skipped and counted; hostile values and help are escaped as generate_latest does; promtool accepts it', async () => {
      const r = await runCli(['dump'], env(prefix))
      expect(r.code).toBe(0)
      expect(r.stdout).not.toMatch(/forged_metric|bad_label|fam_other/)
      expect(r.stdout).toContain(`# HELP hostile_labels Help ${OSC52} \u009b2J\n`)
      expect(r.stdout).toContain(`hostile_labels{method="GET\\nforged 1",path="${OSC52}",pid="4242"} 1.0\n`)
      expect(promtool(r.stdout)).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      // The newline-forging key is metric-shaped too: its name does not parse.
      expect(r.stderr).toMatch(/skipped 4 keys .*1 malformed-name, 3 bad-name/)
      expect((await runCli(['dump', '--strict'], env(prefix))).code).toBe(6)
    })

    it('dump and pid tables, and the exposition on a terminal, show the same text escaped', async () => {
      for (const args of [
        ['dump', '--format', 'table'],
        ['pid', '4242', '-o', 'table'],
      ]) {
        const r = await runCli(args, env(prefix))
        expect(r.code).toBe(0)
        expect(r.stdout).not.toMatch(RAW_CONTROL)
        expect(r.stdout).toContain('method="GET\\nforged 1" path="\\x1b]52;c;aGVsbG8=\\x07"')
      }
      const tty = await runCliOnTty(['dump', '--format', 'prometheus', '--metric', 'hostile_labels'], env(prefix), '')
      expect(tty.code).toBe(0)
      expect(tty.screen).not.toContain(OSC52)
      expect(tty.screen).not.toContain('\u009b')
      expect(tty.screen).toContain('path="\\x1b]52;c;aGVsbG8=\\x07"')
      expect(tty.screen).toContain('# HELP hostile_labels Help \\x1b]52;c;aGVsbG8=\\x07 \\u009b2J')
    })

    it('a lock holder named in an error, and --json on a terminal, show Redis text escaped', async () => {
      const orphan = `${prefix}:gauge_livesum:77:meta:${H}`
      await ctx.redis.hset(orphan, {original_key: originalKey('o', 'o', {}, `x${OSC52}`), created_at: '1.0'})
      const lock = `${prefix}:redismp:prune-lock`
      await ctx.redis.set(lock, `evil${OSC52}host:1:token`, 'PX', 60_000)
      try {
        const held = await runCli(['prune', '--orphans', '--yes'], env(prefix))
        expect(held.code).toBe(4)
        expect(held.stderr).not.toMatch(RAW_CONTROL)
        expect(held.stderr).toContain('evil\\x1b]52;c;aGVsbG8=\\x07host')
      } finally {
        await ctx.redis.del(lock)
      }
      const tty = await runCliOnTty(['dump', '--json', '--metric', 'hostile_labels'], env(prefix), '')
      expect(tty.code).toBe(0)
      expect(tty.screen).not.toContain('\u009b')
      expect(tty.screen).toContain('\\u009b2J')
      await ctx.redis.unlink(orphan)
    })
  })

  describe('item 7: timestamps and write times that are not times; cells that are megabytes', () => {
    const prefix = 'h7'
    afterAll(async () => {
      const keys = await scanAll(ctx.redis, `${prefix}:*`)
      if (keys.length > 0) await ctx.redis.unlink(...keys)
    })

    it('pid shows set() timestamps of inf, -inf, nan and past year 275760 as the numbers stored, and exits 0', async () => {
      for (const [i, ts] of [Infinity, -Infinity, Number.NaN, 1e13, -9e12].entries()) {
        await write(prefix, 77, {metric: 'odd_time', labels: {i: String(i)}}, (v) => v.set(i, ts))
      }
      const r = await runCli(['pid', '77', '-o', 'wide'], env(prefix))
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      for (const text of ['inf', '-inf', 'nan', '10000000000000.0', '-9000000000000.0']) expect(r.stdout).toMatch(new RegExp(` ${text} `))
      const json = JSON.parse((await runCli(['pid', '77', '--json'], env(prefix))).stdout)
      expect(json.series.map((s: {timestamp: unknown}) => s.timestamp)).toEqual(['+Inf', '-Inf', 'NaN', 1e13, -9e12])
    })

    it('an updated_at of inf or nan is no write time: pids, pid and --live-within never count it as fresh', async () => {
      await write(prefix, 88, {metric: 'live_gauge', mode: 'livesum'}, (v) => v.set(1))
      await write(prefix, 99, {metric: 'live_gauge', mode: 'livesum'}, (v) => v.set(2))
      const [inf] = await scanAll(ctx.redis, `${prefix}:gauge_livesum:88:metric:*`)
      const [nan] = await scanAll(ctx.redis, `${prefix}:gauge_livesum:99:metric:*`)
      await ctx.redis.hset(inf, 'updated_at', 'inf')
      await ctx.redis.hset(nan, 'updated_at', 'nan')
      // Their bare-gauge init twins were written too: give them the same non-time.
      await ctx.redis.hset(inf.replace(':gauge_livesum:', ':gauge:'), 'updated_at', 'inf')
      await ctx.redis.hset(nan.replace(':gauge_livesum:', ':gauge:'), 'updated_at', 'nan')
      const rows = JSON.parse((await runCli(['pids', '--json'], env(prefix))).stdout) as {pid: number; newestWrite: number | null; ageSeconds: number | null}[]
      for (const pid of [88, 99]) expect(rows.find((r) => r.pid === pid)).toMatchObject({newestWrite: null, ageSeconds: null})
      const table = await runCli(['pids', '-o', 'table'], env(prefix))
      expect(table.stdout).toMatch(/^ *88 +\d+ +\d+ +- /m)
      const pid = JSON.parse((await runCli(['pid', '88', '--json'], env(prefix))).stdout)
      expect(pid.series[0]).toMatchObject({updatedAt: '+Inf', ageSeconds: null})
      expect((await runCli(['pid', '88', '-o', 'table'], env(prefix))).stdout).toMatch(/unknown/)
      const dump = JSON.parse((await runCli(['dump', '--live-within', '10m', '--metric', 'live_gauge', '--json'], env(prefix))).stdout)
      expect(dump.deadPids).toEqual([88, 99])
      expect(dump.families).toEqual([])
    })

    it('a 1 MB key or label value is drawn in a capped cell, not a megabyte per row', async () => {
      const long = 'x'.repeat(1 << 20)
      await ctx.redis.hset(`${prefix}:${long}:tail`, 'value', '1.0')
      await write(prefix, 55, {metric: 'long_label', labels: {path: `/${long}/end`}}, (v) => v.set(1))
      for (const args of [
        ['keys', '--format', 'table'],
        ['pid', '55', '-o', 'table'],
        ['dump', '--format', 'table', '--metric', 'long_label'],
      ]) {
        const r = await runCli(args, env(prefix))
        expect(r.code).toBe(0)
        expect(r.stdout.length).toBeLessThan(20_000)
        expect(r.stdout).toMatch(/x…x/)
      }
    })
  })

  describe('item 8: names under the prefix that do not parse are judged alike by dump, health and keys', () => {
    const prefix = 'h8'
    beforeAll(async () => {
      expect((await runCli(['seed', '--pids', '2', '--series', '2'], env(prefix))).code).toBe(0)
    })

    it('clean data passes dump --strict and health --strict', async () => {
      const r = await runCli(['dump', '--strict'], env(prefix))
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      expect((await runCli(['health', '--strict'], env(prefix))).code).toBe(0)
    })

    it('metric-shaped keys with a bad md5, a pid that is not a number or an unknown gauge mode: counted by dump, fatal with --strict', async () => {
      const bad = [`${prefix}:counter:12x:metric:${H}`, `${prefix}:gauge_bogus:5:metric:${H}`, `${prefix}:counter:5:metric:${H.toUpperCase()}`]
      for (const key of bad) await ctx.redis.hset(key, {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
      try {
        const r = await runCli(['dump'], env(prefix))
        expect(r.code).toBe(0)
        expect(r.stderr.trim()).toMatch(/^warning: skipped 3 keys that are not clean exporter data \(.*3 malformed-name.*\)$/)
        const strict = await runCli(['dump', '--strict'], env(prefix))
        expect(strict.code).toBe(6)
        expect(strict.stderr).toMatch(/3 malformed-name/)
        const keys = JSON.parse((await runCli(['keys', '--json'], env(prefix))).stdout).keys as {key: string; kind: string}[]
        expect(
          keys
            .filter((k) => k.kind === 'foreign')
            .map((k) => k.key)
            .sort(),
        ).toEqual([...bad].sort())
        expect((await runCli(['health', '--strict'], env(prefix))).code).toBe(6)
      } finally {
        await ctx.redis.unlink(...bad)
      }
    })

    it('any other key under the prefix (a meta with a bad name, a stray key) fails dump --strict as it fails health --strict', async () => {
      for (const key of [`${prefix}:counter:5:meta:zzz`, `${prefix}:stray`]) {
        await ctx.redis.hset(key, 'x', '1')
        try {
          const keys = JSON.parse((await runCli(['keys', '--json'], env(prefix))).stdout).keys as {key: string; kind: string}[]
          expect(keys.filter((k) => k.kind === 'foreign').map((k) => k.key)).toEqual([key])
          const health = await runCli(['health', '--strict'], env(prefix))
          expect(health.code).toBe(6)
          const dump = await runCli(['dump', '--strict'], env(prefix))
          expect(dump.code).toBe(6)
          expect(dump.stderr).toMatch(/1 malformed-name/)
          // Without --strict, dump reads only the metric keys: the stray name costs it nothing.
          expect((await runCli(['dump'], env(prefix))).stderr).toBe('')
        } finally {
          await ctx.redis.unlink(key)
        }
      }
    })
  })
})
