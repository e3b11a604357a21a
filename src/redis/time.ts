import type {Redis} from 'ioredis'

/**
 * Redis server time in seconds, computed as the exporter does (`sec + usec / 1_000_000.0`):
 * ages and liveness are measured on the clock that stamped `updated_at`.
 */
export async function redisTime(redis: Pick<Redis, 'time'>): Promise<number> {
  const [sec, usec] = await redis.time()
  return Number(sec) + Number(usec) / 1_000_000
}
