/**
 * Every way a connection can fail ends in one line on stderr, the documented
 * exit code, no stack trace and no hang — checked on real processes.
 */
import {createServer, type Server, type Socket} from 'node:net'

import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ConfigError} from '../../src/errors.js'
import {RawLane} from '../../src/redis/lane.js'
import {RedisMultiProcessCollector} from '../../src/index.js'
import {runCli} from '../helpers/cli.js'
import {freePort, type RedisServer, scanAll, startRedis, startSentinel} from '../helpers/redis-server.js'

function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
  expect(stderr).not.toMatch(/\bat .*\.js:\d+|Unhandled error event|ReplyError/)
}

describe('connection failures', () => {
  let plain: RedisServer
  let secured: RedisServer
  let tls: RedisServer
  let silent: Server
  let silentPort: number
  const sockets: Socket[] = []

  beforeAll(async () => {
    ;[plain, secured, tls] = await Promise.all([
      startRedis(),
      startRedis({password: 's3cret-pass', aclUser: {name: 'metrics', password: 'acl-pass'}}),
      startRedis({tls: true}),
    ])
    silentPort = await freePort()
    // Accepts connections and never answers: the hang a CLI must not inherit.
    silent = createServer((s) => sockets.push(s))
    await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', r))
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    silent.close()
    await Promise.all([plain.stop(), secured.stop(), tls.stop()])
  })

  it('connects and reports healthy on a plain server', async () => {
    const r = await runCli(['health'], plain.env())
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/status\s+healthy/)
  })

  it('refused: exit 3, says so', async () => {
    const r = await runCli(['health', '-p', String(await freePort())])
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /connection refused/)
    expect(r.stdout).toBe('')
  })

  it('unknown host: exit 3, names the host', async () => {
    const r = await runCli(['health', '-H', 'no-such-host.invalid'])
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /unknown host "no-such-host.invalid"/)
  })

  it('missing password: exit 3, authentication', async () => {
    const r = await runCli(['health'], secured.env())
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /authentication failed at redis:\/\/127\.0\.0\.1:\d+: this server needs a password: set REDIS_PASSWORD$/)
  })

  it('wrong password: exit 3, never echoes the secret', async () => {
    const r = await runCli(['health'], secured.env({REDIS_PASSWORD: 'wrong-secret-value'}))
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /authentication failed.*WRONGPASS/)
    expect(r.stderr + r.stdout).not.toContain('wrong-secret-value')
  })

  it('ACL user with the right and the wrong password', async () => {
    const ok = await runCli(['health'], secured.env({REDIS_USERNAME: 'metrics', REDIS_PASSWORD: 'acl-pass'}))
    expect(ok.code).toBe(0)
    const bad = await runCli(['health', '--user', 'metrics', '--password', 'nope'], secured.env())
    expect(bad.code).toBe(3)
    expectOneLineError(bad.stderr, /WRONGPASS/)
  })

  it('password in a URL works and stays secret in config output', async () => {
    const url = `redis://metrics:acl-pass@127.0.0.1:${secured.port}/0`
    const ok = await runCli(['health', '--url', url])
    expect(ok.code).toBe(0)
    const cfg = await runCli(['config', '--json'], {REDIS_URL: url})
    expect(cfg.stdout).not.toContain('acl-pass')
    expect(JSON.parse(cfg.stdout).password).toEqual(expect.objectContaining({value: '(set, hidden)', source: 'env REDIS_URL'}))
  })

  it('TLS with the CA: healthy', async () => {
    const r = await runCli(['health'], tls.env({REDIS_SSL: 'true', REDIS_SSL_CA: tls.tlsFiles!.ca, REDIS_SSL_SERVERNAME: 'localhost'}))
    expect(r.stderr).not.toMatch(/error/)
    expect(r.code).toBe(0)
  })

  it('TLS without trusting the CA: exit 3, handshake failure', async () => {
    const r = await runCli(['health', '--tls'], tls.env())
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /TLS handshake .* failed: .*trust its CA with --tls-ca FILE.*--tls-insecure/)
  })

  it('TLS with client certificates: without one refused (exit 3), with REDIS_SSL_CERT/KEY healthy', async () => {
    const mtls = await startRedis({tls: true, requireClientCert: true})
    try {
      const base = mtls.env({REDIS_SSL: 'true', REDIS_SSL_CA: mtls.tlsFiles!.ca, REDIS_SSL_SERVERNAME: 'localhost'})
      const without = await runCli(['health', '--connect-timeout', '2s'], base)
      expect(without.code).toBe(3)
      expectOneLineError(without.stderr, /TLS|reset|lost the connection/)
      const withCert = await runCli(['health'], {...base, REDIS_SSL_CERT: mtls.tlsFiles!.clientCert, REDIS_SSL_KEY: mtls.tlsFiles!.clientKey})
      expect(withCert.code).toBe(0)
      const onlyCert = await runCli(['health'], {...base, REDIS_SSL_CERT: mtls.tlsFiles!.clientCert})
      expect(onlyCert.code).toBe(2)
      expectOneLineError(onlyCert.stderr, /REDIS_SSL_CERT and REDIS_SSL_KEY/)
    } finally {
      await mtls.stop()
    }
  })

  it('TLS --tls-insecure skips verification', async () => {
    const r = await runCli(['health', '--tls', '--tls-insecure'], tls.env())
    expect(r.code).toBe(0)
  })

  it('plain client against a TLS port: exit 3, fast, with a hint', async () => {
    const start = Date.now()
    const r = await runCli(['health', '--connect-timeout', '2s', '--command-timeout', '1s'], tls.env())
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /reset \(a TLS-only port needs --tls\)/)
    expect(Date.now() - start).toBeLessThan(15_000)
  })

  it('a server that accepts and never answers: exit 3 within the timeouts', async () => {
    const r = await runCli(['health', '-p', String(silentPort), '--connect-timeout', '1s', '--command-timeout', '500ms'])
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /did not answer/)
  })

  it('through Sentinel: finds the master, and says so when the master name or the sentinels are wrong', async () => {
    const sentinel = await startSentinel(plain)
    try {
      const env = {REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`}
      const ok = await runCli(['health', '--no-keyspace', '--json'], env)
      expect(ok.code).toBe(0)
      expect(JSON.parse(ok.stdout).endpoint).toBe(`redis://127.0.0.1:${plain.port}/0 (master "mymaster" via sentinels 127.0.0.1:${sentinel.port})`)
      const wrongName = await runCli(['health', '--sentinel-master', 'nope'], env)
      expect(wrongName.code).toBe(3)
      expectOneLineError(wrongName.stderr, /the sentinels at 127.0.0.1:\d+ know no master named "nope"/)
      const nobody = await runCli(['health', '--sentinels', `127.0.0.1:${await freePort()}`])
      expect(nobody.code).toBe(3)
      expectOneLineError(nobody.stderr, /no sentinel answered at 127.0.0.1:\d+/)
    } finally {
      await sentinel.stop()
    }
  })

  it("dump's bulk-read connection goes where the main one went: ACL user, TLS with a client certificate, Sentinel, another db", async () => {
    const mtls = await startRedis({tls: true, requireClientCert: true})
    const sentinel = await startSentinel(plain)
    try {
      const targets = [
        secured.env({REDIS_USERNAME: 'metrics', REDIS_PASSWORD: 'acl-pass', REDIS_DB: '2'}),
        mtls.env({
          REDIS_SSL: 'true',
          REDIS_SSL_CA: mtls.tlsFiles!.ca,
          REDIS_SSL_SERVERNAME: 'localhost',
          REDIS_SSL_CERT: mtls.tlsFiles!.clientCert,
          REDIS_SSL_KEY: mtls.tlsFiles!.clientKey,
        }),
        {REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`, REDIS_DB: '3'},
      ]
      const samples: number[] = []
      for (const env of targets) {
        expect((await runCli(['seed', '--pids', '2', '--series', '4'], env)).code).toBe(0)
        const r = await runCli(['dump', '--format', 'prometheus'], env)
        expect(r.stderr).toBe('')
        expect(r.code).toBe(0)
        expect(r.stdout).toMatch(/^# HELP /)
        samples.push(r.stdout.split('\n').filter((line) => line && !line.startsWith('#')).length)
      }
      expect(samples[0]).toBeGreaterThan(0)
      expect(new Set(samples).size).toBe(1)
    } finally {
      await sentinel.stop()
      await mtls.stop()
    }
  })

  it('bad config values name the variable or flag and what is expected: exit 2', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['health'], {REDIS_PORT: 'abc'}, /REDIS_PORT: expected a port number from 1 to 65535, got "abc"/],
      [['health'], {REDIS_DB: '-1'}, /REDIS_DB: expected a database number/],
      [['health'], {REDIS_SSL: 'maybe'}, /REDIS_SSL: expected true\/false/],
      [['health'], {REDIS_TTL_SECONDS: '0'}, /REDIS_TTL_SECONDS: expected a whole number of seconds/],
      [['health'], {REDIS_URL: 'http://x'}, /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/],
      [['health'], {REDIS_CONNECT_TIMEOUT: 'soon'}, /REDIS_CONNECT_TIMEOUT: expected a positive duration/],
      [['health'], {REDIS_SENTINELS: 'sentinel-1'}, /REDIS_SENTINELS: expected host:port pairs separated by commas/],
      [['health', '--port', '70000'], {}, /--port: expected a port number/],
      [['health', '--prefix', ':'], {}, /--prefix: expected a non-empty key prefix/],
      [['health', '--tls', '--tls-ca', '/nonexistent/ca.pem'], {}, /cannot read the TLS CA file "\/nonexistent\/ca.pem"/],
      [['health', '--bogus'], {}, /Nonexistent flag: --bogus \(see --help\)/],
      // A timer cannot wait longer than 2^31-1 ms: 25 days would fire after 1 ms.
      [['health', '--command-timeout', '25d'], {}, /^error: --command-timeout: expected at most 2147483647ms .*, got "25d"$/],
      [['health'], {REDIS_CONNECT_TIMEOUT: '2147484'}, /^error: REDIS_CONNECT_TIMEOUT: expected at most 2147483647ms/],
      // Durations that decide what is deleted or dead carry a unit and are more than zero.
      [['prune', '--stale', '10'], {}, /^error: --stale 10: expected a duration with a unit such as 90s, 10m, 2h or 1d \(see --help\)$/],
      [['prune', '--older-than', '0m'], {}, /^error: --older-than 0m: expected a duration greater than 0/],
      [['prune', '--orphans', '--orphan-grace', '30'], {}, /^error: --orphan-grace 30: expected a duration with a unit/],
      [['dump', '--live-within', '5'], {}, /^error: --live-within 5: expected a duration with a unit/],
      // Kubernetes' service link for a Service named "redis".
      [
        ['keys'],
        {REDIS_PORT: 'tcp://10.96.0.11:6379'},
        /^error: REDIS_PORT is "tcp:\/\/10\.96\.0\.11:6379": Kubernetes sets that for a Service named "redis" .*enableServiceLinks: false.*REDIS_URL/,
      ],
    ]
    for (const [args, env, pattern] of cases) {
      const r = await runCli(args, env)
      expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}`).toBe(2)
      expectOneLineError(r.stderr, pattern)
    }
  })

  it('--json failures print a JSON error on stdout and keep the exit code', async () => {
    const r = await runCli(['health', '--json', '-p', String(await freePort())])
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {exitCode: 3, name: 'RedisConnectionError'}})
  })
})

describe('the database asked for, or nothing', () => {
  let server: RedisServer
  let four: RedisServer
  beforeAll(async () => {
    ;[server, four] = await Promise.all([startRedis(), startRedis({extraArgs: ['--databases', '4']})])
  })
  afterAll(async () => {
    await Promise.all([server.stop(), four.stop()])
  })

  it('a db the server does not have: every command exits 2 before touching db 0', async () => {
    const db0 = await server.client()
    try {
      expect((await runCli(['seed', '--pids', '1', '--series', '2'], server.env())).code).toBe(0)
      await db0.set('precious', 'kept')
      const before = (await scanAll(db0, '*')).sort()
      const line = new RegExp(`^error: db (99|16) does not exist on redis://127\\.0\\.0\\.1:${server.port} \\(it has 16 databases\\)$`)
      const url = (db: number) => `redis://127.0.0.1:${server.port}/${db}`
      const cases: [string[], Record<string, string>][] = [
        [['flushdb', '-n', '99', '--all-keys', '--confirm', `127.0.0.1:${server.port}/99`, '--yes'], server.env()],
        [['flushdb', '--yes'], server.env({REDIS_DB: '99'})],
        [['keys'], server.env({REDIS_DB: '99'})],
        [['dump', '--url', url(99)], {}],
        [['health'], {REDIS_URL: url(16)}],
        [['seed', '--force'], server.env({REDIS_DB: '16'})],
        [['prune', '--orphans', '--artifacts', '--pid', '10001', '--yes'], server.env({REDIS_DB: '99'})],
        [['pids'], server.env({REDIS_DB: '99'})],
        [['pid', '10001'], server.env({REDIS_DB: '99'})],
      ]
      for (const [args, env] of cases) {
        const r = await runCli(args, env)
        expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`).toBe(2)
        expectOneLineError(r.stderr, line)
        expect(r.stdout).toBe('')
      }
      expect((await scanAll(db0, '*')).sort()).toEqual(before)
    } finally {
      db0.disconnect()
    }
  })

  it('says how many databases there are, and the last one works', async () => {
    const r = await runCli(['keys', '-n', '4'], four.env())
    expect(r.code).toBe(2)
    expectOneLineError(r.stderr, /db 4 does not exist on redis:\/\/127\.0\.0\.1:\d+ \(it has 4 databases\)/)
    expect((await runCli(['seed', '-n', '3', '--pids', '1', '--series', '1'], four.env())).code).toBe(0)
    const c = await four.client(3)
    expect((await scanAll(c, 'gunicorn:*')).length).toBeGreaterThan(0)
    c.disconnect()
  })

  it('through Sentinel too', async () => {
    const sentinel = await startSentinel(server)
    try {
      const r = await runCli(['keys'], {REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`, REDIS_DB: '99'})
      expect(r.code).toBe(2)
      expectOneLineError(r.stderr, /db 99 does not exist on master "mymaster" via sentinels 127\.0\.0\.1:\d+ \(it has 16 databases\)/)
    } finally {
      await sentinel.stop()
    }
  })

  it("a read lane checks its db itself: a library user's client that ioredis left in db 0 gets an error, not db 0's data", async () => {
    // ioredis reports the failed SELECT of its handshake as an event and goes on in db 0.
    const client = new Redis({host: '127.0.0.1', port: server.port, db: 99, lazyConnect: true, retryStrategy: () => null})
    client.on('error', () => undefined)
    await client.connect()
    const db0 = await server.client()
    try {
      await db0.set('in-db-0', 'x')
      expect(await client.exists('in-db-0')).toBe(1) // in db 0, as feared
      await expect(RawLane.open(client)).rejects.toThrow(new ConfigError(`db 99 does not exist on redis://127.0.0.1:${server.port} (it has 16 databases)`))
      await expect(new RedisMultiProcessCollector(client, {prefix: 'gunicorn'}).collect()).rejects.toBeInstanceOf(ConfigError)
    } finally {
      await db0.del('in-db-0')
      db0.disconnect()
      client.disconnect()
    }
  })
})

describe('a read-only ACL user (~gunicorn:* +@read)', () => {
  let server: RedisServer
  let env: Record<string, string>
  beforeAll(async () => {
    server = await startRedis({aclUser: {name: 'reader', password: 'reader-pw', rules: '~gunicorn:* +@read'}})
    expect((await runCli(['seed', '--pids', '2', '--series', '3'], server.env())).code).toBe(0)
    env = server.env({REDIS_USERNAME: 'reader', REDIS_PASSWORD: 'reader-pw'})
  })
  afterAll(() => server.stop())

  it('runs dump, keys, pids and pid: no PING, INFO, CLIENT or TIME needed, nothing on stderr', async () => {
    const dump = await runCli(['dump'], env)
    expect(dump.stderr).toBe('')
    expect(dump.code).toBe(0)
    expect(dump.stdout).toMatch(/^gunicorn_worker_requests_total\{/m)
    const keys = await runCli(['keys'], env)
    expect(keys.stderr).toBe('')
    expect(keys.code).toBe(0)
    expect(keys.stdout.trim().split('\n').length).toBeGreaterThan(50)
    const pids = await runCli(['pids', '--json'], env)
    expect(pids.stderr).toBe('')
    expect(pids.code).toBe(0)
    expect(JSON.parse(pids.stdout).map((p: {pid: number}) => p.pid)).toEqual([10_001, 10_002])
    const pid = await runCli(['pid', '10001', '--json'], env)
    expect(pid.stderr).toBe('')
    expect(pid.code).toBe(0)
    expect(JSON.parse(pid.stdout).series.length).toBeGreaterThan(10)
  })

  it('health reports the refused write probe and INFO as findings (exit 6), round trips timed with EXISTS', async () => {
    const r = await runCli(['health'], env)
    expect(r.code).toBe(6)
    expect(r.stdout).toMatch(/write probe\s+FAILED: NOPERM/)
    expect(r.stdout).toMatch(/timed with EXISTS: PING is not permitted/)
    expect(r.stdout).toMatch(/metric keys\s+\d+/)
    expect(r.stderr).toMatch(/warning: INFO is not permitted for this user/)
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error:')),
    ).toEqual([expect.stringMatching(/^error: unhealthy: cannot write under the prefix: NOPERM/)])
    expect(r.stderr).not.toMatch(/Skipping the ready check|\bat .*\.js:\d+/)
  })

  it('another db needs SELECT, which this user lacks: exit 3 naming it, never db 0', async () => {
    const r = await runCli(['keys'], {...env, REDIS_DB: '1'})
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /the ACL user lacks a permission at .*'select'/)
    expect(r.stdout).toBe('')
  })
})

describe('DEBUG never shows a password', () => {
  const ctx = {} as {server: RedisServer}
  beforeAll(async () => {
    ctx.server = await startRedis({password: 'Pa$$w0rd-in-debug'})
  })
  afterAll(() => ctx.server.stop())

  it('from REDIS_PASSWORD, --password, REDIS_URL or --url, with DEBUG=* or DEBUG=ioredis:*', async () => {
    const secret = 'Pa$$w0rd-in-debug'
    const {port} = ctx.server
    const url = `redis://:${encodeURIComponent(secret)}@127.0.0.1:${port}/0`
    const runs: [string[], Record<string, string>][] = [
      [['dump'], {REDIS_PORT: String(port), REDIS_PASSWORD: secret, DEBUG: '*'}],
      [['dump', '--password', secret], {REDIS_PORT: String(port), DEBUG: '*'}],
      [['keys', `--password=${secret}`, '-n', '1'], {REDIS_PORT: String(port), DEBUG: 'ioredis:*'}],
      [['health', '--no-keyspace'], {REDIS_URL: url, DEBUG: '*'}],
      [['dump', '--url', url], {DEBUG: '*'}],
    ]
    for (const [args, env] of runs) {
      const r = await runCli(args, env)
      expect(r.code, r.stderr.slice(-500)).toBe(0)
      // The debug output is there, with its commands: only the password is masked.
      expect(r.stderr).toMatch(/ioredis:redis write command.*(hello|auth)\(/)
      for (const form of [secret, encodeURIComponent(secret), 'Pa$$w0rd']) expect(r.stdout + r.stderr).not.toContain(form)
    }
  })
})
