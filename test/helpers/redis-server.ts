/**
 * Throwaway redis-server processes for tests: each on a free port, with no
 * persistence, in its own temp dir, and stopped by exactly the handle that
 * started it. Tests never touch the machine's own Redis on 6379.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {ConnectionOptions} from 'node:tls'

import {Redis} from 'ioredis'
import {afterAll, beforeAll} from 'vitest'

export interface RedisServerOptions {
  /** requirepass for the default user. */
  password?: string
  /** An extra ACL user, by default with full access to keys and commands. */
  aclUser?: {name: string; password: string; rules?: string}
  /** Serve TLS only, with a certificate from a throwaway CA. */
  tls?: boolean
  /** With tls: clients must present a certificate signed by that CA. */
  requireClientCert?: boolean
  extraArgs?: string[]
}

export interface RedisServer {
  host: string
  port: number
  dir: string
  /** PEM files of the throwaway CA, the server, and a client the CA signed, when tls. */
  tlsFiles?: {ca: string; cert: string; key: string; clientCert: string; clientKey: string}
  proc: ChildProcess
  /** Starts redis-server again on the same port and dir (after a kill), and waits until it answers. */
  restart(): Promise<void>
  /** A plain client for test setup and assertions (not for the code under test). */
  client(db?: number): Promise<Redis>
  /** Environment for a redismp process pointed at this server. */
  env(extra?: Record<string, string>): Record<string, string>
  stop(): Promise<void>
}

export type TlsFiles = NonNullable<RedisServer['tlsFiles']>

const started = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of started) p.kill('SIGKILL')
})

/** Starts a redis-server that the exit hook kills should a test leave it running. */
export function spawnRedisServer(args: string[]): ChildProcess {
  const proc = spawn('redis-server', args, {stdio: 'ignore'})
  started.add(proc)
  return proc
}

/** Stops a process this module started (if it still runs) and removes its directory. */
export async function stopProcess(proc: ChildProcess, dir: string): Promise<void> {
  started.delete(proc)
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await exited
  }
  rmSync(dir, {recursive: true, force: true})
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as {port: number}
      srv.close(() => resolve(port))
    })
  })
}

/** A throwaway CA, a server certificate for localhost/127.0.0.1 and a client certificate, in `dir`. */
export function makeCa(dir: string): TlsFiles {
  const f = (n: string) => join(dir, n)
  const run = (args: string[]) => execFileSync('openssl', args, {stdio: 'ignore'})
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=redismp test CA', '-keyout', f('ca.key'), '-out', f('ca.crt')])
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr')])
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.crt'),
  ])
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=redismp client', '-keyout', f('client.key'), '-out', f('client.csr')])
  run(['x509', '-req', '-in', f('client.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-out', f('client.crt')])
  return {ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key')}
}

export async function waitReady(proc: ChildProcess, connect: () => Promise<Redis>): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`)
    try {
      const c = await connect()
      await c.ping()
      c.disconnect()
      return
    } catch {
      if (Date.now() > deadline) throw new Error('redis-server did not become ready')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

/** The command line of a throwaway server in `dir` on `port` (the TLS port when tlsFiles). */
export function serverArgs(dir: string, port: number, options: RedisServerOptions, tlsFiles?: TlsFiles): string[] {
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, 'redis.log')]
  if (tlsFiles) {
    args.push(
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      tlsFiles.cert,
      '--tls-key-file',
      tlsFiles.key,
      '--tls-ca-cert-file',
      tlsFiles.ca,
      '--tls-auth-clients',
      options.requireClientCert ? 'yes' : 'no',
    )
  } else args.push('--port', String(port))
  if (options.password) args.push('--requirepass', options.password)
  if (options.aclUser) {
    const aclFile = join(dir, 'users.acl')
    const defaultUser = options.password ? `user default on >${options.password} ~* &* +@all` : 'user default on nopass ~* &* +@all'
    writeFileSync(aclFile, `${defaultUser}\nuser ${options.aclUser.name} on >${options.aclUser.password} ${options.aclUser.rules ?? '~* &* +@all'}\n`)
    args.push('--aclfile', aclFile)
  }
  args.push(...(options.extraArgs ?? []))
  return args
}

/** ioredis TLS options that trust the throwaway CA and present its client certificate. */
export function tlsClientOptions(tlsFiles: TlsFiles): ConnectionOptions {
  return {ca: [readFileSync(tlsFiles.ca)], servername: 'localhost', cert: readFileSync(tlsFiles.clientCert), key: readFileSync(tlsFiles.clientKey)}
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'redismp-test-'))
  const port = await freePort()
  const tlsFiles = options.tls ? makeCa(dir) : undefined
  const args = serverArgs(dir, port, options, tlsFiles)

  let proc = spawnRedisServer(args)
  const host = '127.0.0.1'
  const client = async (db = 0) => {
    const c = new Redis({
      host,
      port,
      db,
      password: options.password,
      tls: tlsFiles ? tlsClientOptions(tlsFiles) : undefined,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    c.on('error', () => undefined)
    await c.connect()
    return c
  }
  await waitReady(proc, client)

  const server: RedisServer = {
    host,
    port,
    dir,
    tlsFiles,
    proc,
    async restart() {
      started.delete(proc)
      proc = spawnRedisServer(args)
      server.proc = proc
      await waitReady(proc, client)
    },
    client,
    // REDIS_TTL_SECONDS: keys seed writes in tests expire as the exporter's do (seed's own default is no TTL).
    env: (extra = {}) => ({REDIS_HOST: host, REDIS_PORT: String(port), REDIS_TTL_SECONDS: '300', ...extra}),
    stop: () => stopProcess(proc, dir),
  }
  return server
}

export interface RedisContext {
  server: RedisServer
  /** A plain client for setup and assertions. */
  redis: Redis
  /** REDIS_HOST and REDIS_PORT of the server, for CLI runs. */
  env: Record<string, string>
}

/** A server of its own for the enclosing describe block, started before its tests and stopped after. */
export function useRedis(options: RedisServerOptions = {}): RedisContext {
  const ctx = {} as RedisContext
  beforeAll(async () => {
    ctx.server = await startRedis(options)
    ctx.redis = await ctx.server.client()
    ctx.env = ctx.server.env()
  })
  afterAll(async () => {
    ctx.redis?.disconnect()
    await ctx.server?.stop()
  })
  return ctx
}

/** Every key matching, deduplicated (test setup and assertions only). */
export async function scanAll(redis: Redis, match: string): Promise<string[]> {
  const out = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    cursor = next
    for (const k of keys) out.add(k)
  } while (cursor !== '0')
  return [...out]
}

export interface SentinelServer {
  port: number
  stop(): Promise<void>
}

/** A Sentinel (redis-server --sentinel) on a free port, watching `master` under `name`. */
export async function startSentinel(master: RedisServer, name = 'mymaster'): Promise<SentinelServer> {
  const dir = mkdtempSync(join(tmpdir(), 'redismp-sentinel-'))
  const port = await freePort()
  const conf = join(dir, 'sentinel.conf')
  // Sentinel rewrites its config file, so it gets a writable one of its own.
  writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${name} ${master.host} ${master.port} 1\n`)
  const proc = spawnRedisServer([conf, '--sentinel', '--logfile', join(dir, 'sentinel.log')])
  const ask = async () => {
    const c = new Redis({port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null})
    c.on('error', () => undefined)
    await c.connect()
    // Ready once it names the master.
    const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null
    if (!addr) throw new Error('sentinel does not know the master yet')
    return c
  }
  await waitReady(proc, ask)
  return {
    port,
    stop: () => stopProcess(proc, dir),
  }
}
