#!/usr/bin/env node
/**
 * npm run bench:cluster: the same store (bench/store.js) on one redis-server
 * and on a Redis Cluster of 3 masters (no replicas), each dumped by the real
 * CLI. Prints wall time and peak RSS of `redismp dump` for both, each
 * master's own CPU during the cluster dump (INFO cpu before and after), and
 * the ratio of the cluster dump's wall time to the busiest master's CPU: 1.0
 * would mean the dump took no longer than that master's share of the work.
 * Starts its own servers on free ports and stops them. Sizes:
 * `npm run bench:cluster -- 100000`.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Redis} from 'ioredis'

import {keySlot} from '../dist/redis/slot.js'
import {populate, populateWith, PREFIX} from './store.js'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const SIZES = sizes.length > 0 ? sizes : [1_000_000]
const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'redismp-bench-cluster-'))
const servers = []
const clients = []

/** A free port whose cluster bus port (+10000) is free too. */
async function freePort() {
  const free = (port) =>
    new Promise((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 20_000)
    if ((await free(port)) && (await free(port + 10_000))) return port
  }
}

async function startServer(extra = []) {
  const port = await freePort()
  const sub = mkdtempSync(join(dir, `n${port}-`))
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', sub, ...extra], {
    stdio: 'ignore',
  })
  servers.push(proc)
  const redis = new Redis({port, lazyConnect: true, retryStrategy: () => null})
  redis.on('error', () => undefined)
  clients.push(redis)
  for (let i = 0; ; i++) {
    try {
      await redis.connect()
      return {port, redis}
    } catch {
      if (i > 100) throw new Error('redis-server did not start')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

function timed(args, env) {
  const rssFile = join(dir, 'rss')
  const start = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [join(root, 'bench/measure-rss.js'), ...args], {
    env: {...process.env, NO_COLOR: '1', RSS_FILE: rssFile, ...env},
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  })
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (r.status !== 0 || r.stderr) throw new Error(`redismp ${args.join(' ')} failed: ${r.stderr}`)
  return {seconds, stdout: r.stdout, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024}
}

/** Seconds of CPU the server has used (main thread and the rest), from INFO cpu. */
async function cpuSeconds(redis) {
  const info = await redis.info('cpu')
  const field = (name) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)[1])
  return field('used_cpu_sys') + field('used_cpu_user')
}

try {
  const single = await startServer()
  const nodes = await Promise.all([0, 1, 2].map(() => startServer(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'])))
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'], {encoding: 'utf8'})
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`)
  // Wait until every node agrees the cluster is up.
  for (const n of nodes) {
    while (!/cluster_state:ok/.test(await n.redis.call('CLUSTER', 'INFO'))) await new Promise((r) => setTimeout(r, 100))
  }
  const owner = new Array(16_384)
  for (const [from, to, [, port]] of await nodes[0].redis.call('CLUSTER', 'SLOTS')) {
    const node = nodes.find((n) => n.port === port)
    for (let s = from; s <= to; s++) owner[s] = node
  }
  console.log(`redismp dump on one redis-server and on a 3-master Redis Cluster (no replicas), same store, 127.0.0.1`)
  console.log('metric keys | where | dump s | peak RSS MB | CPU s per master (sys+user during the dump) | dump s / busiest master CPU s')
  for (const size of SIZES) {
    await single.redis.flushall()
    await Promise.all(nodes.map((n) => n.redis.flushall()))
    await populate(single.redis, size)
    const pipelines = new Map(nodes.map((n) => [n, n.redis.pipeline()]))
    await populateWith(
      size,
      (key, fields) => pipelines.get(owner[keySlot(key)]).hset(key, ...fields),
      async () => {
        const sent = [...pipelines.values()]
        for (const n of nodes) pipelines.set(n, n.redis.pipeline())
        await Promise.all(sent.map((p) => p.exec()))
      },
    )
    const env = {REDIS_KEY_PREFIX: PREFIX}
    const cpu0 = await cpuSeconds(single.redis)
    const one = timed(['dump'], {...env, REDIS_PORT: String(single.port)})
    const oneCpu = (await cpuSeconds(single.redis)) - cpu0
    const before = await Promise.all(nodes.map((n) => cpuSeconds(n.redis)))
    const many = timed(['dump'], {...env, REDIS_PORT: String(nodes[0].port)})
    const used = await Promise.all(nodes.map(async (n, i) => (await cpuSeconds(n.redis)) - before[i]))
    if (many.stdout !== one.stdout) throw new Error('the cluster dump differs from the single-server dump')
    const busiest = Math.max(...used)
    console.log([size, 'one server', one.seconds.toFixed(2), one.rssMb.toFixed(0), oneCpu.toFixed(2), (one.seconds / oneCpu).toFixed(2)].join(' | '))
    console.log(
      [size, '3 masters', many.seconds.toFixed(2), many.rssMb.toFixed(0), used.map((c) => c.toFixed(2)).join(' / '), (many.seconds / busiest).toFixed(2)].join(
        ' | ',
      ),
    )
  }
} finally {
  for (const c of clients) c.disconnect()
  for (const n of servers) n.kill('SIGTERM')
  await Promise.all(servers.map((p) => new Promise((r) => (p.exitCode === null ? p.once('exit', r) : r()))))
  rmSync(dir, {recursive: true, force: true})
}
