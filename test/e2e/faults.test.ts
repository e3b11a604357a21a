/**
 * Faults a user meets in production, each on real processes: a server that
 * hangs mid-command (SIGSTOP), a port that is not Redis, and Redis refusing
 * a command for reasons of its own (rename-command, OOM, a replica, no
 * password, protected mode). Each ends in one line on stderr and a
 * documented exit code, never 1 (a bug), never a wait of more than one timeout.
 */
import {randomBytes} from 'node:crypto'
import {createServer as createHttpServer} from 'node:http'
import {createServer, type Server} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {formatKey, md5Hex, originalKey} from '../../src/index.js'
import {streamKeyNames, streamKeys} from '../../src/ops/keys.js'
import {runCli} from '../helpers/cli.js'
import {freeze, startProxy} from '../helpers/proxy.js'
import {type RedisServer, startRedis} from '../helpers/redis-server.js'

function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n')
  expect(lines, stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
  expect(stderr).not.toMatch(/\bat .*\.js:\d+|Unhandled|unexpected|ReplyError|\[WARN\]/)
}

/** `n` series of one counter under `prefix`, metric and meta, for pid 1 (no TTL). */
async function fill(server: RedisServer, n: number, prefix = 'gunicorn'): Promise<void> {
  const c = await server.client()
  for (let from = 0; from < n; from += 5000) {
    const p = c.pipeline()
    for (let i = from; i < Math.min(n, from + 5000); i++) {
      const id = originalKey('jobs', 'jobs_total', {n: String(i)}, 'Jobs.')
      p.hset(formatKey(prefix, 'counter', 1, 'metric', md5Hex(id)), {value: '1.0', timestamp: '0.0', updated_at: '1.0'})
      p.hset(formatKey(prefix, 'counter', 1, 'meta', md5Hex(id)), {original_key: id})
    }
    await p.exec()
  }
  c.disconnect()
}

describe('a server that hangs mid-command (SIGSTOP)', () => {
  // Long enough that a second timeout (QUIT, the lock's release) would show beyond the margin.
  const TIMEOUT_S = 10
  const MARGIN_S = 8

  /** Runs the command through a proxy that stops redis-server just before the `nth` SCAN reaches it. */
  async function hangAtScan(args: string[], nth: number) {
    const server = await startRedis()
    let scans = 0
    const proxy = await startProxy(server, {
      async beforeForward(chunk) {
        scans += chunk.toString('latin1').match(/\r\nSCAN\r\n/gi)?.length ?? 0
        if (scans >= nth && server.proc.signalCode === null) await freeze(server.proc.pid!)
      },
    })
    try {
      await fill(server, 3000)
      const started = Date.now()
      const r = await runCli([...args, '-p', String(proxy.port), '--command-timeout', `${TIMEOUT_S}s`], {}, {timeoutMs: 120_000})
      return {...r, seconds: (Date.now() - started) / 1000, frozen: scans >= nth}
    } finally {
      server.proc.kill('SIGCONT')
      await proxy.close()
      await server.stop()
    }
  }

  it('keys, flushdb, prune and dump give up after one timeout: exit 3, one line, no crash', async () => {
    const runs = await Promise.all([
      // keys prints its first batch, then hangs on the SCAN after the one read ahead.
      hangAtScan(['keys', '--format', 'lines'], 3),
      hangAtScan(['flushdb', '--yes'], 1),
      hangAtScan(['prune', '--orphans', '--yes'], 1),
      hangAtScan(['dump'], 1),
    ])
    for (const r of runs) {
      expect(r.frozen).toBe(true)
      expect(r.code, r.stderr).toBe(3)
      expectOneLineError(r.stderr, /did not answer within the command timeout/)
      expect(r.seconds).toBeLessThan(TIMEOUT_S + MARGIN_S)
    }
    expect(runs[0].stdout).toMatch(/^gunicorn:counter:1:/)
  })
})

describe('a port that is not Redis', () => {
  let http: ReturnType<typeof createHttpServer>
  let noise: Server
  const ports = {http: 0, noise: 0}

  beforeAll(async () => {
    http = createHttpServer((_req, res) => res.end('<html>metrics</html>'))
    // Answers every connection with random bytes, as some other service might.
    noise = createServer((s) => {
      s.on('error', () => undefined)
      s.write(randomBytes(256))
      s.on('data', () => s.write(randomBytes(256)))
    })
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    await new Promise<void>((r) => noise.listen(0, '127.0.0.1', r))
    ports.http = (http.address() as {port: number}).port
    ports.noise = (noise.address() as {port: number}).port
  })
  afterAll(() => {
    http.closeAllConnections()
    http.close()
    noise.close()
  })

  it('an HTTP server: always exit 3, "answered, but not in the Redis protocol (looks like HTTP)"', async () => {
    // However the handshake goes (more commands with a password and a db), and however often.
    const variants = [[], ['-n', '3', '--password', 'pw', '--user', 'u'], ['-n', '2']]
    for (let round = 0; round < 4; round++) {
      for (const extra of variants) {
        const r = await runCli(['keys', '-p', String(ports.http), ...extra])
        expect(r.code, r.stderr).toBe(3)
        expectOneLineError(
          r.stderr,
          new RegExp(`^error: 127\\.0\\.0\\.1:${ports.http} answered, but not in the Redis protocol \\(looks like HTTP\\): wrong port\\?$`),
        )
      }
    }
    const dump = await runCli(['dump', '-p', String(ports.http)])
    expect(dump.code).toBe(3)
    expectOneLineError(dump.stderr, /answered, but not in the Redis protocol \(looks like HTTP\)/)
  })

  it('a peer whose bytes begin as a Redis reply would (`$`, `*`, `:`, `+`), sent at once or only when spoken to: exit 3, not the Redis protocol', async () => {
    // One in fifteen random first bytes is a RESP type byte: these are that case, every time.
    for (const [start, eager] of [
      ['$', true],
      ['*', false],
      [':', false],
      ['+', true],
    ] as const) {
      const garbage = Buffer.concat([
        Buffer.from(start),
        Buffer.from([0x78, 0x00, 0xff, 0x07, 0x1b]),
        Buffer.from(' and no line end, as a binary protocol might send'),
      ])
      const peer = createServer((s) => {
        s.on('error', () => undefined)
        if (eager) s.write(garbage)
        s.on('data', () => s.write(garbage))
      })
      await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r))
      const {port} = peer.address() as {port: number}
      try {
        const r = await runCli(['health', '-p', String(port), '--connect-timeout', '1s', '--command-timeout', '1s'])
        expect(r.code, `${start} ${eager}: ${r.stderr}`).toBe(3)
        expectOneLineError(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} answered, but not in the Redis protocol: wrong port\\?`))
      } finally {
        peer.close()
      }
    }
  })

  it('a peer sending random bytes: exit 3, not the Redis protocol', async () => {
    for (let round = 0; round < 6; round++) {
      const r = await runCli(['health', '-p', String(ports.noise), '--connect-timeout', '1s', '--command-timeout', '1s'])
      expect(r.code, r.stderr).toBe(3)
      expectOneLineError(r.stderr, new RegExp(`127\\.0\\.0\\.1:${ports.noise} answered, but not in the Redis protocol: wrong port\\?`))
    }
  })
})

describe('Redis refusing a command', () => {
  const servers: RedisServer[] = []
  const start = async (...extraArgs: string[]) => {
    const s = await startRedis({extraArgs})
    servers.push(s)
    return s
  }
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()))
  })

  it('SCAN disabled (rename-command SCAN ""): exit 7, names the command', async () => {
    const s = await start('--rename-command', 'SCAN', '')
    for (const command of [['keys'], ['flushdb', '--dry-run'], ['dump']]) {
      const r = await runCli(command, s.env())
      expect(r.code, `${command[0]}: ${r.stderr}`).toBe(7)
      expectOneLineError(r.stderr, /refused SCAN: the command is disabled or renamed on this server/)
    }
  })

  it('PTTL disabled: keys with TTLs exits 7 naming it (never a "none" TTL it could not read); names alone need no PTTL', async () => {
    const s = await start('--rename-command', 'PTTL', '')
    expect((await runCli(['seed', '--pids', '1', '--series', '1'], s.env())).code).toBe(0)
    const r = await runCli(['keys', '-o', 'tsv'], s.env())
    expect(r.code, r.stderr).toBe(7)
    expectOneLineError(r.stderr, /refused PTTL: the command is disabled or renamed on this server/)
    const names = await runCli(['keys'], s.env())
    expect(names.code, names.stderr).toBe(0)
    expect(names.stdout.trim().split('\n').length).toBeGreaterThan(0)
  })

  it('EVAL disabled: prune, which needs scripts to delete, exits 7 and says so', async () => {
    const s = await start('--rename-command', 'EVAL', '')
    expect((await runCli(['seed', '--pids', '1', '--series', '1'], s.env())).code).toBe(0)
    const r = await runCli(['prune', '--pid', '10001', '--yes'], s.env())
    expect(r.code).toBe(7)
    expectOneLineError(r.stderr, /refused EVAL: the command is disabled or renamed on this server/)
  })

  it('out of memory (maxmemory with noeviction): seed exits 7, "out of memory"', async () => {
    const s = await start('--maxmemory', '1mb', '--maxmemory-policy', 'noeviction')
    const c = await s.client()
    // Fill it until Redis refuses.
    await c.eval("for i = 1, 20000 do redis.call('SET', 'fill:' .. i, string.rep('x', 100)) end", 0).catch(() => undefined)
    c.disconnect()
    const r = await runCli(['seed', '--prefix', 'full'], s.env())
    expect(r.code).toBe(7)
    expectOneLineError(r.stderr, /is out of memory and refused HSET/)
  })

  it('a read-only replica: seed exits 7 ("read-only replica"), health reports it as a finding (exit 6)', async () => {
    const master = await start()
    const replica = await start('--replicaof', master.host, String(master.port))
    const r = await runCli(['seed'], replica.env())
    expect(r.code).toBe(7)
    expectOneLineError(r.stderr, /is a read-only replica and refused HSET: connect to its master to write/)
    const health = await runCli(['health', '--no-keyspace'], replica.env())
    expect(health.code).toBe(6)
    expect(health.stdout).toMatch(/write probe\s+FAILED: READONLY/)
  })

  it('no password given to a server that needs one: "this server needs a password: set REDIS_PASSWORD", exit 3', async () => {
    const s = await startRedis({password: 'needed-pw'})
    servers.push(s)
    for (const args of [['keys'], ['dump'], ['health'], ['keys', '-n', '2']]) {
      const r = await runCli(args, s.env())
      expect(r.code).toBe(3)
      expectOneLineError(r.stderr, /^error: authentication failed at redis:\/\/127\.0\.0\.1:\d+: this server needs a password: set REDIS_PASSWORD$/)
    }
  })

  it('protected mode (no password, a client from another address): says so, exit 3', async () => {
    // Redis counts only 127.0.0.1 and ::1 as local: through a proxy the server sees 127.0.0.2.
    const s = await start('--protected-mode', 'yes')
    const proxy = await startProxy(s, {localAddress: '127.0.0.2'})
    try {
      for (const args of [['keys'], ['health', '-n', '1']]) {
        const r = await runCli([...args, '-p', String(proxy.port)])
        expect(r.code, r.stderr).toBe(3)
        expectOneLineError(r.stderr, /refused the connection: it runs in protected mode \(no password set\)/)
      }
    } finally {
      await proxy.close()
    }
  })

  it('a password the server does not need: no ioredis warning on stderr', async () => {
    const s = await start()
    expect((await runCli(['seed', '--pids', '1', '--series', '1'], s.env())).code).toBe(0)
    const r = await runCli(['dump'], s.env({REDIS_PASSWORD: 'not-needed'}))
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
  })
})

describe("a reader slower than the server's idle timeout", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis({extraArgs: ['--timeout', '3']})
    await fill(server, 3000)
  })
  afterAll(() => server.stop())

  it('keys keeps its read lane alive (PING while idle) and lists every key, names alone and with TTLs', async () => {
    const redis = await server.client()
    try {
      // Each listing's reader stops for longer than the server lets a connection idle, once.
      const pause = () => new Promise((r) => setTimeout(r, 5000))
      let names = 0
      let rows = 0
      let pausedNames = false
      let pausedRows = false
      await Promise.all([
        streamKeyNames(redis, {prefix: 'gunicorn', scanCount: 100}, async (batch) => {
          names += batch.schemaCount
          if (!pausedNames) await pause()
          pausedNames = true
        }),
        streamKeys(redis, {prefix: 'gunicorn', scanCount: 100, resolve: true}, async (batch) => {
          rows += batch.length
          if (!pausedRows) await pause()
          pausedRows = true
        }),
      ])
      expect([names, rows]).toEqual([6000, 6000])
    } finally {
      redis.disconnect()
    }
  })
})
