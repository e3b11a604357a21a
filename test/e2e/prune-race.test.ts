/**
 * prune against workers that wake up: a dead pid's keys go only when written
 * no later than its death mark, so whatever a worker writes after prune
 * judged it dead survives — injected at the seams between the phases, and
 * from a free-running worker process while prune runs again and again.
 */
import {spawn, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import type {Redis} from 'ioredis'
import {describe, expect, it} from 'vitest'

import {md5Hex, originalKey} from '../../src/metrics/pyjson.js'
import {prune, type PruneOptions, type PruneResult} from '../../src/ops/prune/prune.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {useRedis} from '../helpers/redis-server.js'

const PREFIX = 'race'
const WRITER = fileURLToPath(new URL('../helpers/gauge-writer.mjs', import.meta.url))

const gaugeNames = (n: number) => Array.from({length: n}, (_, i) => `g${i}`)
const idOf = (name: string) => originalKey(name, name, {}, '')
const livesumKeys = (pid: number, name: string) => {
  const h = md5Hex(idOf(name))
  return [`${PREFIX}:gauge_livesum:${pid}:metric:${h}`, `${PREFIX}:gauge_livesum:${pid}:meta:${h}`]
}

/**
 * Each pid's livesum gauges as the exporter leaves them after create() and one
 * set() (metric, meta, and the bare-`gauge` init twins), all last written long ago.
 */
async function populateAncient(redis: Redis, pids: number[], names: string[]) {
  const p = redis.pipeline()
  for (const pid of pids) {
    for (const name of names) {
      const id = idOf(name)
      const h = md5Hex(id)
      p.hset(`${PREFIX}:gauge_livesum:${pid}:meta:${h}`, {typ: 'gauge', multiprocess_mode: 'livesum', created_at: '1000.0', original_key: id})
      p.hset(`${PREFIX}:gauge_livesum:${pid}:metric:${h}`, {value: '1.0', timestamp: '0.0', updated_at: '1000.0'})
      p.hset(`${PREFIX}:gauge:${pid}:metric:${h}`, {value: '0.0', timestamp: '0.0', updated_at: '1000.0'})
      p.hset(`${PREFIX}:gauge:${pid}:meta:${h}`, {original_key: id, created_at: '1000.0'})
    }
  }
  await p.exec()
}

/** A pid that ran a moment ago and no longer runs on this host. */
function deadPid(): number {
  return spawnSync('true').pid!
}

async function existing(redis: Redis, keys: string[]): Promise<number> {
  return keys.length === 0 ? 0 : redis.exists(...keys)
}

describe('prune and a worker that wakes up', () => {
  const ctx = useRedis()
  const names = gaugeNames(40)
  const rewrite = names.filter((_, i) => i % 2 === 0)
  const untouched = names.filter((_, i) => i % 2 === 1)

  const verdicts = (pid: number): [string, Partial<PruneOptions>][] => [
    ['--stale', {staleMs: 3_600_000}],
    ['--pid', {pids: [pid]}],
    ['--local', {local: true}],
  ]

  /**
   * For each way of judging a pid dead: an old store of that pid, a prune with
   * `seams` given the worker's rewrite of half its gauges; the rewritten ones
   * must survive, the others go.
   */
  async function pruneWhileWaking(seams: (rewrite: () => Promise<void>, how: string, pid: number) => Partial<PruneOptions>) {
    const pid = deadPid()
    const results: PruneResult[] = []
    for (const [how, options] of verdicts(pid)) {
      await ctx.redis.flushall()
      await populateAncient(ctx.redis, [pid], names)
      const dict = new RedisStorageDict(ctx.redis, PREFIX, {pid})
      const wake = async () => {
        for (const name of rewrite) await dict.set(idOf(name), 2, 0, 'gauge', 'livesum')
      }
      const result = await prune(ctx.redis, {prefix: PREFIX, ...options, ...seams(wake, how, pid)})
      for (const name of rewrite) expect(await existing(ctx.redis, livesumKeys(pid, name)), `${how} ${name}`).toBe(2)
      for (const name of untouched) expect(await existing(ctx.redis, livesumKeys(pid, name)), `${how} ${name}`).toBe(0)
      results.push(result)
    }
    return {pid, results}
  }

  it('a write between the liveness judgement and the plan keeps its key (--stale, --pid, --local)', async () => {
    const {results} = await pruneWhileWaking((wake, how, pid) => ({
      async afterJudgement(dead) {
        expect(dead, how).toEqual([pid])
        await wake()
      },
    }))
    // Written after the judgement: not even planned.
    for (const r of results) expect(r.done).toMatchObject({'dead-live-gauge': 2 * untouched.length, 'dead-artifact': 2 * names.length})
  })

  it('a write between the plan and the delete keeps its key (--stale, --pid, --local)', async () => {
    const planned = new Set<string>()
    const {pid, results} = await pruneWhileWaking((wake) => ({
      async beforeApply(targets) {
        for (const t of targets) planned.add(t)
        await wake()
      },
    }))
    // Planned while still old, written before the delete: kept by the script that deletes.
    expect(rewrite.every((name) => planned.has(livesumKeys(pid, name)[0]))).toBe(true)
    for (const r of results) expect(r.keptRewritten).toBe(rewrite.length)
  })

  it('worker processes waking pid after pid while prune --stale runs again and again lose no fresh key', async () => {
    let runs = 0
    let deleted = 0
    let fresh = 0
    let lost = 0
    for (let round = 0; round < 3; round++) {
      await ctx.redis.flushall()
      const pids = Array.from({length: 100}, (_, i) => 50_001 + i)
      const perPid = gaugeNames(50)
      await populateAncient(ctx.redis, pids, perPid)
      // Each pid wakes once, in random order, after a short pause, and writes a random half of its gauges once.
      const plan = [...pids]
        .sort(() => Math.random() - 0.5)
        .map((pid) => ({pid, pauseMs: Math.floor(Math.random() * 20), names: perPid.filter(() => Math.random() < 0.5)}))
      const writer = spawn(process.execPath, [WRITER, String(ctx.server.port), PREFIX], {stdio: ['pipe', 'pipe', 'inherit']})
      const exited = new Promise<number | null>((resolve) => writer.on('close', resolve))
      let woken = 0
      let running = true
      void exited.then(() => (running = false))
      const ready = new Promise<void>((resolve) =>
        writer.stdout.on('data', (d: Buffer) => {
          for (const line of d.toString().split('\n')) {
            if (line === 'ready') resolve()
            else if (line.startsWith('woke')) woken++
          }
        }),
      )
      writer.stdin.write(JSON.stringify(plan) + '\n')
      await ready
      // The writer and prune start together: the first run judges every pid dead while they wake.
      writer.stdin.end('go\n')
      while (running) {
        const r = await prune(ctx.redis, {prefix: PREFIX, staleMs: 3_600_000})
        runs++
        deleted += r.deletedKeys
      }
      expect(await exited).toBe(0)
      expect(woken).toBe(pids.length)
      for (const step of plan) {
        for (const name of step.names) {
          fresh++
          if ((await existing(ctx.redis, livesumKeys(step.pid, name))) !== 2) lost++
        }
      }
    }
    console.log(`free-running race: ${runs} prune runs, ${deleted} old keys deleted, ${fresh} gauges written fresh, ${lost} of them lost`)
    expect(runs).toBeGreaterThan(3)
    expect(deleted).toBeGreaterThan(0)
    expect(lost).toBe(0)
  })
})
