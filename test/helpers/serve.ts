/**
 * `redismp serve` as a test meets it: a real process on a free port, scraped
 * with Node's fetch, stopped with SIGTERM however the test ends.
 */
import type {Redis} from 'ioredis'
import {afterAll} from 'vitest'

import {formatKey} from '../../src/metrics/keys.js'
import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {seed} from '../../src/ops/seed.js'
import {startCli} from './cli.js'
import {freePort} from './redis-server.js'

export interface Served {
  base: string
  port: number
  child: ReturnType<typeof startCli>['child']
  done: ReturnType<typeof startCli>['done']
  stderr: () => string
  stop(): Promise<number | null>
}

export const running = new Set<Served>()
afterAll(async () => {
  for (const s of running) await s.stop()
})

/** Polls until `check` holds; the bound only keeps a broken server from hanging the run. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, boundMs = 30_000): Promise<T> {
  const end = Date.now() + boundMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function startServe(args: string[], env: Record<string, string>): Promise<Served> {
  const port = await freePort()
  const {child, done} = startCli(['serve', '--listen', `127.0.0.1:${port}`, ...args], env)
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  let exited = false
  void done.then(() => (exited = true))
  await until('serve to listen', () => /^serving http:\/\//m.test(err) || exited)
  if (exited) throw new Error(`serve exited: ${err}`)
  const served: Served = {
    base: `http://127.0.0.1:${port}`,
    port,
    child,
    done,
    stderr: () => err,
    async stop() {
      running.delete(served)
      if (!exited) child.kill('SIGTERM')
      return (await done).code
    },
  }
  running.add(served)
  return served
}

export const scrape = async (s: Served, path = '/metrics') => {
  const r = await fetch(s.base + path)
  return {status: r.status, type: r.headers.get('content-type'), body: await r.text()}
}

/** The value of one sample (`name` or `name{labels}` as written) on a page. */
export function value(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** The families (`# TYPE` names) on a page. */
export const families = (page: string) => [...page.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1])

export const SELF = /^(redis_|redismp_|process_|nodejs_)/

/** `n` counter series of one pid, written as the exporter writes them, with their metas. */
export async function populate(redis: Redis, prefix: string, n: number, pids = 4): Promise<void> {
  let p = redis.pipeline()
  for (let pid = 100; pid < 100 + pids; pid++) {
    for (let i = 0; i < n / pids; i++) {
      const id = originalKey('bulk_requests', 'bulk_requests_total', {path: `/r${i}`}, 'Bulk.')
      const hash = md5Hex(id)
      p.hset(formatKey(prefix, 'counter', pid, 'metric', hash), 'value', '1.0', 'timestamp', '0.0', 'updated_at', '1700000000.5')
      p.hset(formatKey(prefix, 'counter', pid, 'meta', hash), 'original_key', id, 'created_at', '1700000000.5')
      if (p.length >= 10_000) {
        await p.exec()
        p = redis.pipeline()
      }
    }
  }
  await p.exec()
}

/** `redismp seed`'s dataset, written in this process (a CLI run costs a second or more on a loaded machine). */
export async function seedStore(redis: Redis, pids: number, series: number): Promise<void> {
  await seed(redis, {prefix: 'gunicorn', pids, series, ttlSeconds: 300, ttlDisabled: false, force: true})
}
