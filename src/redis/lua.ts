/**
 * Scripts that write: each runs where the keys it judges live, so that the
 * judgement and the write are one atomic step on the server.
 */
import type {Connection} from './cluster.js'

/** Servers seen to reject the flag line (before Redis 7): their scripts run without it. */
const noFlagLine = new WeakSet<Connection>()

/**
 * Runs a script that writes, flagged `allow-oom`: on a full server
 * (maxmemory reached, noeviction) Redis 7 refuses SET and EXPIRE, and any
 * flagged script without this flag, yet deleting is exactly what frees it.
 * A server older than Redis 7 cannot parse the flag line: the same script
 * runs there without it (DEL still works when full; taking the lock does not).
 */
export async function evalWrite(redis: Connection, script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  if (!noFlagLine.has(redis)) {
    try {
      return await redis.eval(`#!lua flags=allow-oom\n${script}`, keys.length, ...keys, ...args)
    } catch (error) {
      if (!/Error compiling script.*near '#'/.test(String((error as Error)?.message))) throw error
      noFlagLine.add(redis)
    }
  }
  return redis.eval(script, keys.length, ...keys, ...args)
}
