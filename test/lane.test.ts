/**
 * The bulk-read lane and what it stands on: RESP framing over arbitrary
 * chunk boundaries, the command writer, the md5 series index, float parsing
 * on bytes — and the lane itself against a real redis-server, including the
 * ways it must fail (dropped connection, silent server, refused command).
 */
import {execFileSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'

import type {Redis} from 'ioredis'
import {describe, expect, it} from 'vitest'

import {RedisAuthenticationError, RedisConnectionError, RedisTimeoutError} from '../src/errors.js'
import {parsePyFloat, parsePyFloatBytes, pyFloatRepr} from '../src/metrics/pyfloat.js'
import {RawLane, ReplyError} from '../src/redis/lane.js'
import {mapRedisError} from '../src/redis/errors.js'
import {CommandWriter, ReplyCursor, ReplyFramer, encodeArgs, encodeHead} from '../src/redis/resp.js'
import {connectRedis} from '../src/redis/connect.js'
import {loadConfig} from '../src/config/load.js'
import {readMetricKeys} from '../src/storage/reader.js'
import {SeriesIndex} from '../src/storage/series-index.js'
import {formatKey, md5Hex, originalKey} from '../src/index.js'
import {startRedis, useRedis} from './helpers/redis-server.js'

/** Frames `bytes` delivered in the given chunk sizes, as the lane does; returns each reply's [start, end). */
function frameInChunks(bytes: Buffer, sizes: () => number): [number, number][] {
  const framer = new ReplyFramer()
  const out: [number, number][] = []
  let start = 0
  let available = 0
  while (available < bytes.length) {
    available = Math.min(bytes.length, available + sizes())
    for (let end = framer.feed(bytes, available); end >= 0; end = framer.feed(bytes, available)) {
      out.push([start, end])
      start = end
    }
  }
  return out
}

describe('RESP framing and writing', () => {
  const replies = [
    '+OK\r\n',
    '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n',
    ':-42\r\n',
    '$-1\r\n',
    '$0\r\n\r\n',
    '$5\r\nab\r\nc\r\n', // CRLF inside a bulk string is data
    '*-1\r\n',
    '*0\r\n',
    '*3\r\n$3\r\n1.0\r\n$-1\r\n$12\r\n1700000000.5\r\n',
    '*2\r\n$5\r\n12345\r\n*2\r\n$3\r\nk:1\r\n$3\r\nk:2\r\n',
    '*2\r\n*1\r\n*0\r\n:7\r\n',
  ]
  const stream = Buffer.from(replies.join(''))
  const expected = (() => {
    let at = 0
    return replies.map((r) => [at, (at += Buffer.byteLength(r))] as [number, number])
  })()

  it('finds every reply end whatever the chunk boundaries', () => {
    expect(frameInChunks(stream, () => stream.length)).toEqual(expected)
    expect(frameInChunks(stream, () => 1)).toEqual(expected)
    let seed = 7
    for (let round = 0; round < 200; round++) {
      const sizes = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 9) + 1
      expect(frameInChunks(stream, sizes)).toEqual(expected)
    }
  })

  it('refuses bytes that are not RESP2 (a RESP3 null, say) instead of misreading them', () => {
    expect(() => new ReplyFramer().feed(Buffer.from('_\r\n'), 3)).toThrow(/unexpected RESP type byte 0x5f/)
  })

  it('reads the parts of a reply with the cursor', () => {
    const r = new ReplyCursor().at(Buffer.from(replies[8]), 0)
    expect(r.count()).toBe(3)
    expect(r.bulk()).toBe(true)
    expect(r.text()).toBe('1.0')
    expect(r.bulk()).toBe(false)
    expect(r.bulk()).toBe(true)
    expect(parsePyFloatBytes(r.buf, r.start, r.end)).toBe(1700000000.5)
    expect(new ReplyCursor().at(Buffer.from(replies[1]), 0).line()).toMatch(/^WRONGTYPE /)
  })

  it('writes commands as redis-cli would: lengths in bytes, any byte in an argument', () => {
    const w = new CommandWriter(8)
    const key = Buffer.from('x$é\r\nz')
    w.raw(encodeHead(3, 'HGET')).bytes(key, 0, key.length).raw(encodeArgs('original_key'))
    w.command(2).arg('GET').spliced(Buffer.from('a:metric:h'), 0, 10, 2, 8, Buffer.from('meta'))
    expect(w.take().toString('latin1')).toBe(
      Buffer.from('*3\r\n$4\r\nHGET\r\n$7\r\nx$é\r\nz\r\n$12\r\noriginal_key\r\n*2\r\n$3\r\nGET\r\n$8\r\na:meta:h\r\n').toString('latin1'),
    )
    // A detached buffer is handed back and used again, never shared while in use.
    const first = w.command(1).arg('PING').detach()
    const second = w.command(1).arg('PONG').detach()
    expect(first.toString()).toBe('*1\r\n$4\r\nPING\r\n')
    expect(second.toString()).toBe('*1\r\n$4\r\nPONG\r\n')
    w.reuse(first)
    // The writer goes on in a fresh buffer; the one after it is the one given back.
    expect(w.command(1).arg('ECHO').detach().buffer).not.toBe(first.buffer)
    const again = w.command(1).arg('ECHO').detach()
    expect(again.buffer).toBe(first.buffer)
    expect(again.toString()).toBe('*1\r\n$4\r\nECHO\r\n')
  })
})

describe('SeriesIndex', () => {
  it('numbers md5 digests in order of first sight, the same digest always alike, through growth', () => {
    const index = new SeriesIndex()
    const digests = Array.from({length: 20_000}, () => createHash('md5').update(randomBytes(8)).digest('hex'))
    const ids = digests.map((d) => index.idOf(Buffer.from(`k:${d}`), 2))
    expect(ids).toEqual(digests.map((_, i) => i))
    expect(index.size).toBe(digests.length)
    // Seen again, in another buffer at another offset: the same numbers.
    digests.forEach((d, i) => expect(index.idOf(Buffer.from(`xyz${d}`), 3)).toBe(i))
    digests.forEach((d, i) => expect(index.hexOf(i)).toBe(d))
  })

  it('answers -1 for what is not 32 lowercase hex digits', () => {
    const index = new SeriesIndex()
    expect(index.idOf(Buffer.from('A'.repeat(32)), 0)).toBe(-1)
    expect(index.idOf(Buffer.from('g' + 'a'.repeat(31)), 0)).toBe(-1)
    expect(index.idOf(Buffer.from('a'.repeat(31) + ':'), 0)).toBe(-1)
    expect(index.size).toBe(0)
  })
})

describe('parsePyFloatBytes', () => {
  it('agrees with parsePyFloat (Python float()) on repr text and on odd text', () => {
    const texts: string[] = ['1.0', '-0.0', '0.0', '1e-05', '1e+16', 'inf', '-inf', 'nan', 'NaN', '1.', '.5', '+1.0', ' 2.5 ', '1_000.0', 'one', '', '-', '1.2.3']
    texts.push('123456789012345.6', '1234567890123456.7', '0.000000000000001', '9007199254740993.0', '0.1', '0.3', '2.675')
    let seed = 99
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0)
    for (let i = 0; i < 20_000; i++) {
      const digits = next() % 18
      const scale = 10 ** (next() % 20)
      const x = (next() * 2 ** digits + (next() % 1000)) / scale
      texts.push(pyFloatRepr(next() % 2 ? x : -x), String(x))
    }
    for (const text of texts) {
      const bytes = Buffer.from(`#${text}#`)
      expect(Object.is(parsePyFloatBytes(bytes, 1, bytes.length - 1), parsePyFloat(text)), text).toBe(true)
    }
  })
})

describe('RawLane against redis-server', () => {
  const ctx = useRedis()

  it('pipelines many commands in one write and hands each reply over in order', async () => {
    const lane = await RawLane.open(ctx.redis)
    try {
      const w = new CommandWriter()
      for (let i = 0; i < 5000; i++) w.command(3).arg('SET').arg(`lane:${i}`).arg('x'.repeat(i % 50))
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
      const failure = await readMetricKeys(redis, {prefix: 'gunicorn'}, () => undefined).catch((e: unknown) => e)
      const mapped = mapRedisError(failure, {host: '127.0.0.1', port: ctx.server.port, tls: false})
      expect(mapped).toBeInstanceOf(RedisAuthenticationError)
      expect(mapped!.message).toMatch(/lacks a permission.*NOPERM.*hmget/)
    } finally {
      redis.disconnect()
      await ctx.redis.flushdb()
    }
  })

  it('a series whose first key has no meta is named by another pid\'s meta, in the same batch or a later one; one with none is orphaned', async () => {
    const prefix = 'metas'
    const named = originalKey('jobs', 'jobs_total', {queue: 'q'}, 'Jobs.')
    const nameless = originalKey('lost', 'lost_total', {}, 'Lost.')
    const p = ctx.redis.pipeline()
    for (let pid = 1; pid <= 40; pid++) {
      p.hset(formatKey(prefix, 'counter', pid, 'metric', md5Hex(named)), {value: `${pid}.0`, timestamp: '0.0', updated_at: '1.0'})
      if (pid <= 3) p.hset(formatKey(prefix, 'counter', pid, 'metric', md5Hex(nameless)), {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
    }
    // Only the last worker's meta survives (the others expired, say).
    p.hset(formatKey(prefix, 'counter', 40, 'meta', md5Hex(named)), {original_key: named})
    await p.exec()
    try {
      for (const scanCount of [3, 1000]) {
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
        const lane = /^id=(\d+) /m.exec(cli('CLIENT', 'LIST').split('\n').find((c) => c.includes(' name=redismp-read ')) ?? '')
        cli('CLIENT', 'KILL', 'ID', lane![1])
      }).catch((e: unknown) => e)
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
      const failure = await lane.request(new CommandWriter().command(1).arg('PING').take(), 1, () => undefined).catch((e: unknown) => e)
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
