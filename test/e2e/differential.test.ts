/**
 * Differential test against the reference: random scenarios replayed through
 * the real prometheus_client (mmap files, MultiProcessCollector,
 * generate_latest; mark_process_dead for dead workers) and, op for op, through
 * our RedisValue into Redis. Our dump must equal the reference sample for
 * sample, gauges that workers created and never wrote included. Values are
 * drawn so that sums are exact: the reference adds in
 * directory order, which no one can reproduce, so inexact sums could differ
 * in the last bit for reasons that are not ours (see metrics/exactsum.ts).
 */
import {describe, expect, it} from 'vitest'

import {generateLatest} from '../../src/metrics/exposition.js'
import {dump} from '../../src/ops/dump.js'
import {scanKeys} from '../../src/redis/scan.js'
import {useRedis} from '../helpers/redis-server.js'
import {makeScenario, markDead, normalize, reference as referenceOf, replayIntoRedis} from '../helpers/scenarios.js'

describe('dump equals prometheus_client MultiProcessCollector', () => {
  const ctx = useRedis()

  for (const seed of Array.from({length: 30}, (_, i) => i + 1)) {
    it(`random scenario ${seed}`, async () => {
      const scenario = makeScenario(seed)
      const reference = referenceOf(scenario)
      const prefix = `diff${seed}`
      await replayIntoRedis(ctx.redis, prefix, scenario)
      for (const pid of scenario.dead) await markDead(ctx.redis, prefix, pid)
      const ours = generateLatest((await dump(ctx.redis, {prefix})).families)

      expect(normalize(ours)).toEqual(normalize(reference))
      // And through stale pids instead of deletion: --live-within drops the same live gauges.
      if (scenario.dead.length > 0) {
        const stalePrefix = `${prefix}stale`
        await replayIntoRedis(ctx.redis, stalePrefix, scenario)
        for await (const k of scanKeys(ctx.redis, {match: `${stalePrefix}:*:metric:*`})) {
          const pid = Number(k.split(':').at(-3))
          if (scenario.dead.includes(pid)) await ctx.redis.hset(k, 'updated_at', '1000.0')
        }
        const viaLiveness = await dump(ctx.redis, {prefix: stalePrefix, liveWithinMs: 3_600_000})
        expect(viaLiveness.deadPids).toEqual([...scenario.dead].sort((a, b) => a - b))
        expect(normalize(generateLatest(viaLiveness.families))).toEqual(normalize(reference))
      }
    })
  }

  it('two dumps of the same data are byte-identical and sorted', async () => {
    const a = generateLatest((await dump(ctx.redis, {prefix: 'diff7'})).families)
    const b = generateLatest((await dump(ctx.redis, {prefix: 'diff7', scanCount: 3})).families)
    expect(a).toBe(b)
    const names = [...a.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1])
    expect(names).toEqual([...names].sort())
  })
})
