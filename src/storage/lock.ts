/**
 * A lease so two prunes never run at once: SET NX PX with a token, renewed
 * while the work goes on, released only by its holder (compare-and-delete).
 * If the holder dies, the lease simply runs out.
 */
import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

import type {Redis} from 'ioredis'

import {RefusedError} from '../errors.js'
import {toolKey} from './keyspace.js'

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export class Lease {
  private timer?: NodeJS.Timeout

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly token: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease or throws RefusedError naming who holds it. */
  static async acquire(redis: Redis, prefix: string, name: string, ttlMs = 60_000): Promise<Lease> {
    const key = toolKey(prefix, name)
    const token = `${hostname()}:${process.pid}:${randomUUID()}`
    const ok = await redis.set(key, token, 'PX', ttlMs, 'NX')
    if (ok !== 'OK') {
      const [holder, pttl] = await Promise.all([redis.get(key), redis.pttl(key)])
      const who = holder ? holder.split(':').slice(0, 2).join(' pid ') : 'another run'
      throw new RefusedError(`another ${name.replace(/-lock$/, '')} is running (lock ${key} held by ${who}, ${Math.ceil(Math.max(pttl, 0) / 1000)}s left); try again later`)
    }
    const lease = new Lease(redis, key, token, ttlMs)
    try {
      // Renewal and release are scripts: find out now if this user may not run them.
      await lease.renew()
    } catch (error) {
      if ((await redis.get(key)) === token) await redis.del(key)
      throw error
    }
    lease.timer = setInterval(() => void lease.renew().catch(() => undefined), ttlMs / 3)
    lease.timer.unref()
    return lease
  }

  async renew(): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, this.token, this.ttlMs)) === 1
  }

  async release(): Promise<void> {
    clearInterval(this.timer)
    await this.redis.eval(RELEASE, 1, this.key, this.token)
  }
}
