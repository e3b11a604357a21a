#!/usr/bin/env node
/**
 * npm run bench: how fast `redismp dump` reads 10k / 100k / 1M metric keys
 * (16 pids, plus one meta key each, as the exporter writes), against the floor
 * of a bare `redis-cli --scan | wc -l` over the same keys. It starts its own
 * redis-server on a free port and stops it; nothing else is touched.
 *
 * Prints wall time, keys/s and peak RSS of the real CLI process. Sizes can be
 * chosen: `npm run bench -- 10000 100000`.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Redis} from 'ioredis'

import {PIDS, PREFIX, populate} from './store.js'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const SIZES = sizes.length ? sizes : [10_000, 100_000, 1_000_000]
const root = fileURLToPath(new URL('..', import.meta.url))

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })

function timed(cmd, args, env) {
  const start = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {env: {...process.env, ...env}, maxBuffer: 1 << 30, encoding: 'utf8', shell: false})
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return {seconds, stdout: r.stdout, stderr: r.stderr}
}

const dir = mkdtempSync(join(tmpdir(), 'redismp-bench-'))
const port = await freePort()
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {stdio: 'ignore'})
const redis = new Redis({port, lazyConnect: true, retryStrategy: () => null})
redis.on('error', () => undefined)
try {
  for (let i = 0; ; i++) {
    try {
      await redis.connect()
      break
    } catch {
      if (i > 100) throw new Error('redis-server did not start')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  console.log(`redismp dump benchmark: ${PIDS} pids, one meta key per metric key, redis-server on 127.0.0.1:${port}`)
  console.log('metric keys | populate s | redis-cli --scan s | dump s | metric keys/s | peak RSS MB | dump / scan')
  for (const size of SIZES) {
    await redis.flushdb()
    const t0 = Date.now()
    await populate(redis, size)
    const populateS = (Date.now() - t0) / 1000
    const scan = timed('bash', ['-c', `redis-cli -p ${port} --scan --pattern '${PREFIX}:*:metric:*' | wc -l`])
    const rssFile = join(dir, 'rss')
    const env = {REDIS_PORT: String(port), REDIS_KEY_PREFIX: PREFIX, NO_COLOR: '1', RSS_FILE: rssFile}
    const dump = timed(process.execPath, [join(root, 'bench/measure-rss.js'), 'dump', '--format', 'prometheus'], env)
    if (!dump.stdout.startsWith('# HELP ')) throw new Error('dump printed no exposition')
    if (dump.stderr) throw new Error(`dump warned: ${dump.stderr}`)
    const rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024
    console.log(
      [size, populateS.toFixed(1), scan.seconds.toFixed(2), dump.seconds.toFixed(2), Math.round(size / dump.seconds), rssMb.toFixed(0), (dump.seconds / scan.seconds).toFixed(2)].join(' | '),
    )
  }
} finally {
  redis.disconnect()
  server.kill('SIGTERM')
  await new Promise((r) => server.once('exit', r))
  rmSync(dir, {recursive: true, force: true})
}
