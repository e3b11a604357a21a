/**
 * A lease so two prunes never run at once: a key holding the holder's token
 * (`hostname:pid:uuid`) with an expiry, renewed while the work goes on,
 * released only by its holder (compare-and-delete). Every step is a script
 * flagged allow-oom, so the lease can be taken on a full server, where prune
 * is needed most.
 *
 * A holder that died leaves its lease behind until it expires; two cases need
 * not wait: a lock key without an expiry (it would block forever) and a holder
 * on this host whose pid no longer runs. Those are taken over, and said so.
 */
import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

import {RefusedError} from '../../errors.js'
import type {Connection} from '../../redis/cluster.js'
import {evalWrite} from '../../redis/lua.js'
import {toolKey} from '../../engine/keyspace.js'

/** ARGV: token, ttl ms, '1' to replace the holder ARGV[4]. Replies {1} when taken, else {0, holder, pttl}. */
const ACQUIRE = `local held = redis.call('GET', KEYS[1])
if held == false or (ARGV[3] == '1' and held == ARGV[4]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1}
end
return {0, held, redis.call('PTTL', KEYS[1])}`
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export interface LeaseOptions {
  ttlMs?: number
  /** Whether a pid of this host no longer runs: its lease is taken over. */
  pidGone?: (pid: number) => boolean
}

/** The host and pid a token names (`hostname:pid:uuid`; read from the right, a host name may hold anything). */
export function tokenHolder(token: string): {host: string; pid: number} | undefined {
  const m = /^(.*):(\d+):[^:]+$/.exec(token)
  return m ? {host: m[1], pid: Number(m[2])} : undefined
}

export class Lease {
  private timer?: NodeJS.Timeout

  private constructor(
    private readonly redis: Connection,
    readonly key: string,
    readonly token: string,
    private readonly ttlMs: number,
    /** Set when the lease was taken over from a dead holder: why, in one line. */
    readonly tookOver?: string,
  ) {}

  /** Takes the lease or throws RefusedError naming who holds it. */
  static async acquire(redis: Connection, prefix: string, name: string, o: LeaseOptions = {}): Promise<Lease> {
    const ttlMs = o.ttlMs ?? 60_000
    const key = toolKey(prefix, name)
    const token = `${hostname()}:${process.pid}:${randomUUID()}`
    const take = async (replacing?: string) =>
      (await evalWrite(redis, ACQUIRE, [key], [token, ttlMs, replacing === undefined ? '0' : '1', replacing ?? ''])) as [number, string?, number?]
    let [taken, holder, pttl] = await take()
    let tookOver: string | undefined
    if (!taken) {
      const dead = holder!
      const gone = whyGone(dead, pttl!, o.pidGone)
      if (gone) {
        ;[taken, holder, pttl] = await take(dead)
        if (taken) tookOver = `took over the lock ${key} from ${describeHolder(dead)}: ${gone}`
      }
    }
    if (!taken) {
      throw new RefusedError(
        `another ${name.replace(/-lock$/, '')} is running (lock ${key} held by ${describeHolder(holder!)}, ${Math.ceil(Math.max(pttl!, 0) / 1000)}s left); try again later`,
      )
    }
    const lease = new Lease(redis, key, token, ttlMs, tookOver)
    lease.timer = setInterval(() => void lease.renew().catch(() => undefined), ttlMs / 3)
    lease.timer.unref()
    return lease
  }

  async renew(): Promise<boolean> {
    return (await evalWrite(this.redis, RENEW, [this.key], [this.token, this.ttlMs])) === 1
  }

  async release(): Promise<void> {
    clearInterval(this.timer)
    await evalWrite(this.redis, RELEASE, [this.key], [this.token])
  }
}

/** Why a held lock is dead, or undefined when its holder may still be at work. */
function whyGone(holder: string, pttl: number, pidGone?: (pid: number) => boolean): string | undefined {
  if (pttl === -1) return 'the lock had no expiry'
  const h = tokenHolder(holder)
  if (h && h.host === hostname() && h.pid !== process.pid && pidGone?.(h.pid)) return `pid ${h.pid} no longer runs on this host`
  return undefined
}

function describeHolder(holder: string): string {
  const h = tokenHolder(holder)
  return h ? `${h.host} pid ${h.pid}` : 'another run'
}
