import type {Redis} from 'ioredis'

import {isCommandRefused} from './errors.js'

/**
 * Redis server time in seconds, computed as the exporter does (`sec + usec / 1_000_000.0`):
 * ages and liveness are measured on the clock that stamped `updated_at`.
 */
export async function redisTime(redis: Pick<Redis, 'time'>): Promise<number> {
  const [sec, usec] = await redis.time()
  return Number(sec) + Number(usec) / 1_000_000
}

/**
 * Redis's clock where this user may read it, else this host's: for ages shown
 * to people (pids, pid), never for what decides a delete. A read-only ACL
 * user (`+@read`) may not run TIME, and still gets its listings.
 */
export async function clockForAges(redis: Pick<Redis, 'time'>): Promise<number> {
  try {
    return await redisTime(redis)
  } catch (error) {
    if (isCommandRefused(error)) return Date.now() / 1000
    throw error
  }
}

/** Seconds from a write to `now`, both Redis time (to the millisecond, never below 0); null when the write time is unknown or not a time. */
export function ageSeconds(written: number | undefined, now: number): number | null {
  return written === undefined || !Number.isFinite(written) ? null : Math.max(0, Math.round((now - written) * 1000) / 1000)
}

/** A PTTL reply as whole seconds left, rounded up as TTL rounds; null without a TTL (-1), for a key gone (-2), or unknown. */
export function ttlSeconds(pttl: number | undefined): number | null {
  return pttl === undefined || !(pttl >= 0) ? null : Math.ceil(pttl / 1000)
}
