#!/usr/bin/env node
/**
 * npm run bench: how fast `redismp dump` reads 10k / 100k / 1M metric keys
 * (16 pids, plus one meta key each, as the exporter writes), against the floor
 * of a bare `redis-cli --scan | wc -l` over the same keys, and against Redis's
 * own CPU for the same command (`INFO cpu` before and after: no client on one
 * Redis can be faster). Then `keys | wc -l` and `prune --stale 10m --dry-run`
 * (every pid of the bench data is stale: the whole store is planned) on the
 * same store, each with its ratio to dump's time. It starts its own
 * redis-server on a free port and stops it; nothing else is touched.
 *
 * Prints wall time, keys/s and peak RSS of the real CLI process, and the
 * time of `redismp stats` (sampled memory, no --exact) on the same store
 * against dump's. Sizes can be chosen: `npm run bench -- 10000 100000`.
 * BENCH_RUNS=3 times dump, stats, keys and prune alternately three times on
 * each store and prints the fastest of each: on a shared machine the load
 * drifts, and alternating keeps them compared under the same load. Each
 * ratio is to dump's fastest; Redis's CPU is printed for all four (keys' and
 * prune's after their times).
 *
 * "bare walk / Redis CPU" is the floor on this machine for any client: the
 * same SCAN, meta and field reads as dump, sent by a script that folds
 * nothing (bench/bare-walk.js). Its distance from 1.00 is the round trips and
 * the cores Redis shares with the client; dump's distance from it is what
 * redismp itself costs (start-up, aggregation, the exposition).
 */
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {PIDS, populate, PREFIX, startStore} from './store.js'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const SIZES = sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000]
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS) || 1)
const root = fileURLToPath(new URL('..', import.meta.url))

/** Seconds of CPU the redis-server has used so far, user and system. */
async function redisCpu(redis) {
  const info = await redis.info('cpu')
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)[1])
  return field('used_cpu_user') + field('used_cpu_sys')
}

/** Runs `run` and returns its result with the redis-server's CPU seconds spent meanwhile. */
async function withRedisCpu(redis, run) {
  const before = await redisCpu(redis)
  const result = run()
  return {...result, redisCpu: (await redisCpu(redis)) - before}
}

function timed(cmd, args, env) {
  const start = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {env: {...process.env, ...env}, maxBuffer: 1 << 30, encoding: 'utf8', shell: false})
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return {seconds, stdout: r.stdout, stderr: r.stderr}
}

const store = await startStore()
const {port, dir, redis} = store
try {
  console.log(`redismp dump benchmark: ${PIDS} pids, one meta key per metric key, redis-server on 127.0.0.1:${port}`)
  console.log(
    'metric keys | populate s | redis-cli --scan s | dump s | Redis CPU s | dump / Redis CPU | bare walk / Redis CPU | metric keys/s | peak RSS MB | keys to a pipe s (/ dump; Redis CPU s) | prune --dry-run s (/ dump; Redis CPU s) | stats s (/ dump) | stats RSS MB',
  )
  for (const size of SIZES) {
    await redis.flushdb()
    const t0 = Date.now()
    await populate(redis, size)
    const populateS = (Date.now() - t0) / 1000
    const scan = timed('bash', ['-c', `redis-cli -p ${port} --scan --pattern '${PREFIX}:*:metric:*' | wc -l`])
    const rssFile = join(dir, 'rss')
    const env = {REDIS_PORT: String(port), REDIS_KEY_PREFIX: PREFIX, NO_COLOR: '1', RSS_FILE: rssFile}
    const cli = [join(root, 'bench/measure-rss.js')]
    const fastest = (a, b) => (a === undefined || b.seconds < a.seconds ? b : a)
    let dump
    let stats
    let keys
    let prune
    let bare
    for (let run = 0; run < RUNS; run++) {
      const d = await withRedisCpu(redis, () => timed(process.execPath, [...cli, 'dump', '--format', 'prometheus'], env))
      if (!d.stdout.startsWith('# HELP ')) throw new Error('dump printed no exposition')
      if (d.stderr) throw new Error(`dump warned: ${d.stderr}`)
      dump = fastest(dump, {...d, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024})
      const s = timed(process.execPath, [...cli, 'stats'], env)
      if (!s.stdout.includes('FAMILIES BY MEMORY')) throw new Error(`stats printed no view: ${s.stdout.slice(0, 200)}`)
      if (s.stderr) throw new Error(`stats warned: ${s.stderr}`)
      stats = fastest(stats, {...s, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024})
      const k = await withRedisCpu(redis, () => timed('bash', ['-c', `'${process.execPath}' '${cli[0]}' keys | wc -l`], env))
      if (Number(k.stdout.trim()) !== 2 * size) throw new Error(`keys listed ${k.stdout.trim()} keys, not ${2 * size}`)
      keys = fastest(keys, k)
      prune = fastest(prune, await withRedisCpu(redis, () => timed(process.execPath, [...cli, 'prune', '--stale', '10m', '--dry-run'], env)))
      const b = await withRedisCpu(redis, () => timed(process.execPath, [join(root, 'bench/bare-walk.js'), String(port), PREFIX]))
      if (Number(b.stdout.trim()) !== size) throw new Error(`the bare walk read ${b.stdout.trim()} keys, not ${size}`)
      bare = fastest(bare, b)
    }
    const {rssMb} = dump
    const ratio = (x) => `${x.seconds.toFixed(2)} (${(x.seconds / dump.seconds).toFixed(2)}; Redis ${x.redisCpu.toFixed(2)})`
    console.log(
      [
        size,
        populateS.toFixed(1),
        scan.seconds.toFixed(2),
        dump.seconds.toFixed(2),
        dump.redisCpu.toFixed(2),
        (dump.seconds / dump.redisCpu).toFixed(2),
        (bare.seconds / bare.redisCpu).toFixed(2),
        Math.round(size / dump.seconds),
        rssMb.toFixed(0),
        ratio(keys),
        ratio(prune),
        `${stats.seconds.toFixed(2)} (${(stats.seconds / dump.seconds).toFixed(2)})`,
        stats.rssMb.toFixed(0),
      ].join(' | '),
    )
  }
} finally {
  await store.stop()
}
