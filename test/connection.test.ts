/**
 * Every way a connection can fail ends in one line on stderr, the documented
 * exit code, no stack trace and no hang — checked on real processes.
 */
import {createServer, type Server, type Socket} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCli} from './helpers/cli.js'
import {freePort, type RedisServer, startRedis, startSentinel} from './helpers/redis-server.js'

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
    expectOneLineError(r.stderr, /authentication failed.*NOAUTH/)
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
    expect(JSON.parse(cfg.stdout)).toContainEqual(expect.objectContaining({setting: 'password', value: '(set, hidden)', source: 'env REDIS_URL'}))
  })

  it('TLS with the CA: healthy', async () => {
    const r = await runCli(['health'], tls.env({REDIS_SSL: 'true', REDIS_SSL_CA: tls.tlsFiles!.ca, REDIS_SSL_SERVERNAME: 'localhost'}))
    expect(r.stderr).not.toMatch(/error/)
    expect(r.code).toBe(0)
  })

  it('TLS without trusting the CA: exit 3, handshake failure', async () => {
    const r = await runCli(['health', '--tls'], tls.env())
    expect(r.code).toBe(3)
    expectOneLineError(r.stderr, /TLS handshake .* failed/)
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
        mtls.env({REDIS_SSL: 'true', REDIS_SSL_CA: mtls.tlsFiles!.ca, REDIS_SSL_SERVERNAME: 'localhost', REDIS_SSL_CERT: mtls.tlsFiles!.clientCert, REDIS_SSL_KEY: mtls.tlsFiles!.clientKey}),
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
