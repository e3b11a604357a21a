/**
 * The zod parsers of settings given as text. One parser checks a setting from
 * the environment and from its flag (settings.ts), so `REDIS_PORT=abc` and
 * `--port abc` fail with the same explanation, each naming where the bad value
 * came from.
 */
// zod's v3 API, which zod 4 keeps under zod/v3 for good: it loads in ~15 ms, where zod 4's own
// took ~60 ms (plus ~15 ms more to build these parsers) before any command could start.
import {z} from 'zod/v3'

import {MAX_TIMER_MS, parseDuration} from './duration.js'

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['0', 'false', 'no', 'off'])

export const boolText = z.string().transform((s, ctx) => {
  const v = s.trim().toLowerCase()
  if (TRUE.has(v)) return true
  if (FALSE.has(v)) return false
  ctx.addIssue({code: 'custom', message: 'expected true/false (also 1/0, yes/no, on/off)'})
  return z.NEVER
})

export const intText = (min: number, max: number, what: string) =>
  z.string().transform((s, ctx) => {
    const t = s.trim()
    const n = Number(t)
    if (!/^\d+$/.test(t) || n < min || n > max) {
      ctx.addIssue({code: 'custom', message: `expected ${what}`})
      return z.NEVER
    }
    return n
  })

/**
 * Timeouts: `5s`, `500ms`, or bare seconds (`2.5`), as the exporter's own
 * 5.0-second socket timeouts read; never longer than a timer can wait.
 */
export const timeoutText = z.string().transform((s, ctx) => {
  const ms = parseDuration(s)
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({code: 'custom', message: 'expected a positive duration such as 5s, 500ms or 2.5'})
    return z.NEVER
  }
  if (ms > MAX_TIMER_MS) {
    ctx.addIssue({code: 'custom', message: `expected at most ${MAX_TIMER_MS}ms (about 24d 20h, the longest a timer can wait)`})
    return z.NEVER
  }
  return ms
})

export const urlText = z.string().transform((s, ctx) => {
  let url: URL
  try {
    url = new URL(s.trim())
  } catch {
    ctx.addIssue({code: 'custom', message: 'expected a URL such as redis://user:pass@host:6379/0'})
    return z.NEVER
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({code: 'custom', message: `expected a redis:// or rediss:// URL, got scheme "${url.protocol.replace(/:$/, '')}"`})
    return z.NEVER
  }
  const db = url.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d+$/.test(db)) {
    ctx.addIssue({code: 'custom', message: `expected a database number after the host, got "/${db}"`})
    return z.NEVER
  }
  return url
})

/** REDIS_KEY_PREFIX as the exporter uses it: a trailing `:` is dropped. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/:+$/, '')
}

export const prefixText = z.string().transform((s, ctx) => {
  const p = normalizePrefix(s)
  if (p === '') {
    ctx.addIssue({code: 'custom', message: 'expected a non-empty key prefix such as gunicorn'})
    return z.NEVER
  }
  return p
})

export const text = z.string().min(1, 'expected a non-empty value')

/** `host:port[,host:port…]`, e.g. the Sentinels to ask for the current master. */
export const hostPortsText = z.string().transform((s, ctx) => {
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
  const parsed = list.map((hp) => /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hp))
  if (list.length === 0 || parsed.some((m) => !m || Number(m[2]) < 1 || Number(m[2]) > 65_535)) {
    ctx.addIssue({code: 'custom', message: 'expected host:port pairs separated by commas, such as sentinel-1:26379,sentinel-2:26379'})
    return z.NEVER
  }
  return parsed.map((m) => ({host: m![1].replace(/^\[(.*)\]$/, '$1'), port: Number(m![2])}))
})

/**
 * `announced-host:port=reachable-host:port,…`: where cluster nodes announce
 * addresses this host cannot reach (containers, NAT), ioredis's natMap.
 */
export const natMapText = z.string().transform((s, ctx) => {
  const map: Record<string, {host: string; port: number}> = {}
  for (const pair of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([^=\s]+:\d{1,5})=(\[[^\]]+\]|[^:=\s]+):(\d{1,5})$/.exec(pair)
    if (!m) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected announced-host:port=reachable-host:port pairs separated by commas, such as 10.0.0.5:6379=localhost:7000',
      })
      return z.NEVER
    }
    map[m[1]] = {host: m[2].replace(/^\[(.*)\]$/, '$1'), port: Number(m[3])}
  }
  return map
})
