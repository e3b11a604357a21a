/**
 * The bulk-read lane against a real redis-server, including the ways it must
 * fail (dropped connection, silent server, refused command). What it stands on
 * (RESP framing, the series index, floats on bytes) is in test/unit.
 */
import {execFileSync} from 'node:child_process'

import type {Redis} from 'ioredis'
import {describe, expect, it} from 'vitest'

import {RedisAuthenticationError, RedisConnectionError, RedisTimeoutError} from '../../src/errors.js'
import {RawLane, ReplyError} from '../../src/redis/lane.js'
import {mapRedisError} from '../../src/redis/errors.js'
import {CommandWriter} from '../../src/redis/resp.js'
import {connectRedis} from '../../src/redis/connect.js'
import {loadConfig} from '../../src/config/load.js'
import {readMetricKeys} from '../../src/engine/reader.js'
import {formatKey, md5Hex, originalKey} from '../../src/index.js'
import {startRedis, useRedis} from '../helpers/redis-server.js'

describe('RawLane against redis-server', () => {
  const ctx = useRedis()

  it('pipelines many commands in one write and hands each reply over in order', async () => {
    const lane = await RawLane.open(ctx.redis)
    try {
      const w = new CommandWriter()
      for (let i = 0; i < 5000; i++)
        w.command(3)
          .arg('SET')
          .arg(`lane:${i}`)
          .arg('x'.repeat(i % 50))
      for (let i = 0; i < 5000; i++) w.command(2).arg('STRLEN').arg(`lane:${i}`)
      const lengths: number[] = []
      await lane.request(w.take(), 10_000, (r) => {
        if (r.type === 0x3a) lengths.push(r.count())
      })
      expect(lengths).toEqual(Array.from({length: 5000}, (_, i) => i % 50))
    } finally {
      lane.close()
      await ctx.redis.flushdb()
    }
  })

  it('an error reply the caller does not expect ends the lane with a ReplyError that maps like ioredis errors', async () => {
    const lane = await RawLane.open(ctx.redis)
    const w = new CommandWriter()
    await expect(
      lane.request(w.command(2).arg('NOSUCHCOMMAND').arg('x').take(), 1, (r) => {
        if (r.type === 0x2d) throw new ReplyError(r.line())
      }),
    ).rejects.toThrow(/unknown command/)
    await expect(lane.request(w.command(1).arg('PING').take(), 1, () => undefined)).rejects.toThrow(/unknown command/)
    lane.close()
  })

  it('a user without HMGET gets one line naming the permission, exit 3', async () => {
    await ctx.redis.call('ACL', 'SETUSER', 'nohmget', 'on', '>pw', '~*', '&*', '+@all', '-hmget')
    const config = loadConfig({REDIS_PORT: String(ctx.server.port), REDIS_USERNAME: 'nohmget', REDIS_PASSWORD: 'pw'}, {})
    const redis = await connectRedis(config.config)
    try {
      await ctx.redis.hset(formatKey('gunicorn', 'counter', 1, 'metric', md5Hex('x')), {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
      const failure = await readMetricKeys(redis, {prefix: 'gunicorn'}, () => undefined).catch((error: unknown) => error)
      const mapped = mapRedisError(failure, {host: '127.0.0.1', port: ctx.server.port, tls: false})
      expect(mapped).toBeInstanceOf(RedisAuthenticationError)
      expect(mapped!.message).toMatch(/lacks a permission.*NOPERM.*hmget/)
    } finally {
      redis.disconnect()
      await ctx.redis.flushdb()
    }
  })

  it("a series whose first key has no meta is named by another pid's meta, in the same batch or a later one; one with none is orphaned", async () => {
    const named = originalKey('jobs', 'jobs_total', {queue: 'q'}, 'Jobs.')
    const nameless = originalKey('lost', 'lost_total', {}, 'Lost.')
    // SCAN's order depends on the key names and the server's hash seed. Among 20,000 other keys a
    // walk's keys spread over many SCAN replies, a few per batch, and over forty prefixes the one
    // pid whose meta survives lands in every kind of spot: before, among and after the batches
    // whose keys wait for a meta, while another pid's (missing) meta is on its way.
    const prefixes = Array.from({length: 40}, (_, i) => `metas${i}`)
    const p = ctx.redis.pipeline()
    for (let i = 0; i < 20_000; i++) p.set(`filler:${i}`, '')
    for (const prefix of prefixes) {
      for (let pid = 1; pid <= 40; pid++) {
        p.hset(formatKey(prefix, 'counter', pid, 'metric', md5Hex(named)), {value: `${pid}.0`, timestamp: '0.0', updated_at: '1.0'})
        if (pid <= 3) p.hset(formatKey(prefix, 'counter', pid, 'metric', md5Hex(nameless)), {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
      }
      // Only the last worker's meta survives (the others expired, say).
      p.hset(formatKey(prefix, 'counter', 40, 'meta', md5Hex(named)), {original_key: named})
    }
    await p.exec()
    try {
      for (const [prefix, scanCount] of [...prefixes.map((prefix) => [prefix, 1000] as const), [prefixes[0], 3] as const]) {
        let total = 0
        const pids = new Set<number>()
        const stats = await readMetricKeys(ctx.redis, {prefix, scanCount}, (k) => {
          expect(k.metricName).toBe('jobs')
          total += k.value
          pids.add(k.pid)
        })
        expect(pids.size).toBe(40)
        expect(total).toBe((40 * 41) / 2)
        expect(stats.skipped.orphans).toBe(3)
        expect(stats.samples).toBe(40)
      }
    } finally {
      await ctx.redis.flushdb()
    }
  })

  it('a connection dropped mid-walk fails the read as a lost connection, and nothing hangs', async () => {
    const prefix = 'dropped'
    const id = originalKey('c', 'c_total', {}, 'h')
    const p = ctx.redis.pipeline()
    // Every pid with its meta: whichever key SCAN shows first is named at once, so samples come
    // from the first batch on (a key no meta has named yet would wait for the end of the walk).
    for (let pid = 1; pid <= 3000; pid++) {
      p.hset(formatKey(prefix, 'counter', pid, 'metric', md5Hex(id)), {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
      p.hset(formatKey(prefix, 'counter', pid, 'meta', md5Hex(id)), {original_key: id})
    }
    await p.exec()
    const redis = await connectRedis(loadConfig({REDIS_PORT: String(ctx.server.port)}, {}).config)
    const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(ctx.server.port), ...args], {encoding: 'utf8'})
    let killed = false
    try {
      const failure = await readMetricKeys(redis, {prefix, scanCount: 10}, () => {
        if (killed) return
        killed = true
        // The lane names itself: kill just that connection, mid-walk. Synchronously, so that the
        // walk cannot go on meanwhile: however slow the machine, hundreds of SCANs are still to come.
        const lane = /^id=(\d+) /m.exec(
          cli('CLIENT', 'LIST')
            .split('\n')
            .find((c) => c.includes(' name=redismp-read ')) ?? '',
        )
        cli('CLIENT', 'KILL', 'ID', lane![1])
      }).catch((error: unknown) => error)
      expect(killed).toBe(true)
      const mapped = mapRedisError(failure, {host: '127.0.0.1', port: ctx.server.port, tls: false})
      expect(mapped).toBeInstanceOf(RedisConnectionError)
      expect(mapped!.message).toMatch(/^lost the connection to /)
    } finally {
      redis.disconnect()
      await ctx.redis.flushdb()
    }
  })
})

describe('RawLane and a server that stops answering', () => {
  it('fails with a command timeout instead of waiting forever', async () => {
    const server = await startRedis()
    try {
      const config = loadConfig({REDIS_PORT: String(server.port), REDIS_COMMAND_TIMEOUT: '300ms'}, {})
      // One server, so the connection is a plain Redis.
      const redis = (await connectRedis(config.config)) as Redis
      const lane = await RawLane.open(redis)
      server.proc.kill('SIGSTOP')
      const started = Date.now()
      const failure = await lane.request(new CommandWriter().command(1).arg('PING').take(), 1, () => undefined).catch((error: unknown) => error)
      server.proc.kill('SIGCONT')
      expect(Date.now() - started).toBeLessThan(5000)
      expect(mapRedisError(failure, {host: '127.0.0.1', port: server.port, tls: false})).toBeInstanceOf(RedisTimeoutError)
      lane.close()
      redis.disconnect()
    } finally {
      server.proc.kill('SIGCONT')
      await server.stop()
    }
  })
})
