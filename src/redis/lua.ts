/**
 * Batch reads as one Lua call replying with ONE bulk string: every field as
 * `<byte length>:<bytes>`, or `-` when missing. Decoding one string costs the
 * client far less than an ioredis pipeline of one command per key (measured
 * on 1M keys: 3.4 µs a key in all, against 8.8 µs for HMGET pipelines), and
 * the lengths make any byte safe in a field.
 */
import type {Connection} from './cluster.js'

/** Lua: `put(v)` appends a field to `out`; a script ends with `return table.concat(out)`. */
export const PUT_FIELD = `local out = {}
local j = 0
local function put(v)
  j = j + 1
  if v then out[j] = #v .. ':' .. v else out[j] = '-' end
end`

/** Errors that mean "no scripts here" (ACL, an old Redis, cross-slot keys), as opposed to a lost connection. */
const NO_SCRIPTS = /NOPERM|unknown command|CROSSSLOT|not allowed|shebang|Unexpected|READONLY|NOSCRIPT|Error compiling|user_script/i

export function scriptsRefused(error: unknown): boolean {
  return NO_SCRIPTS.test(String((error as Error)?.message ?? error))
}

/**
 * Runs `viaScript` unless scripts were refused before on this walk, and
 * `viaPipeline` when they are refused now (then `mode.scripts` turns false,
 * so the rest of the walk does not ask again). Other errors pass through.
 */
export async function scriptOrPipeline<T>(mode: {scripts: boolean}, viaScript: () => Promise<T>, viaPipeline: () => Promise<T>): Promise<T> {
  if (mode.scripts) {
    try {
      return await viaScript()
    } catch (error) {
      if (!scriptsRefused(error)) throw error
      mode.scripts = false
    }
  }
  return viaPipeline()
}

/**
 * A PUT_FIELD script over many items, `size` at a time, the calls sent back
 * to back (one Lua call over 25k keys cost the server 5.2 µs a key, over 5k
 * keys 2.8 µs: its tables grow). Returns every field in item order.
 */
export async function evalFieldsInChunks<T>(
  redis: Connection,
  script: string,
  items: readonly T[],
  size: number,
  call: (part: readonly T[]) => {keys: string[]; args: (string | number)[]},
): Promise<(string | null)[]> {
  const parts: Promise<(string | null)[]>[] = []
  for (let i = 0; i < items.length; i += size) {
    const {keys, args} = call(items.slice(i, i + size))
    parts.push(evalFields(redis, script, keys, args))
  }
  return (await Promise.all(parts)).flat()
}

/** Runs a PUT_FIELD script and returns its fields in order. */
export async function evalFields(redis: Connection, script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<(string | null)[]> {
  const buf = (await redis.callBuffer('EVAL', script, keys.length, ...keys, ...args)) as Buffer
  return decodeFields(buf)
}

/** Splits a PUT_FIELD reply into its fields. */
export function decodeFields(buf: Buffer): (string | null)[] {
  const out: (string | null)[] = []
  let pos = 0
  while (pos < buf.length) {
    if (buf[pos] === 0x2d) {
      out.push(null)
      pos++
      continue
    }
    let len = 0
    while (buf[pos] !== 0x3a) len = len * 10 + (buf[pos++] - 0x30)
    pos++
    out.push(buf.toString('utf8', pos, pos + len))
    pos += len
  }
  return out
}

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
