/**
 * Where `redismp serve` listens: the exporter sidecar's variables
 * (PROMETHEUS_METRICS_PORT, PROMETHEUS_BIND_ADDRESS), overridden by
 * `--listen HOST:PORT`. The port is checked by the same field schema as
 * REDIS_PORT, and a bad value names the variable or flag it came from.
 */
import {ConfigError} from '../errors.js'
import {field} from './schema.js'

export const LISTEN_ENV = {port: 'PROMETHEUS_METRICS_PORT', host: 'PROMETHEUS_BIND_ADDRESS'} as const

/** The sidecar's port, and Prometheus exporters' habit of every interface. */
export const DEFAULT_METRICS_PORT = 9091

export interface ListenAddress {
  /** Undefined: every interface, IPv6 and IPv4 (Node's `::` with dual stack). */
  host?: string
  port: number
}

const HOST = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/

function port(raw: string, origin: string): number {
  const r = field.port.safeParse(raw)
  if (!r.success) throw new ConfigError(`${origin}: ${r.error.issues[0].message}, got "${raw}"`)
  return r.data
}

function host(raw: string, origin: string): string | undefined {
  const t = raw.trim()
  if (t === '') return undefined
  if (!HOST.test(t)) throw new ConfigError(`${origin}: expected a host name or IP address such as 0.0.0.0, 127.0.0.1 or ::, got "${raw}"`)
  return t.replace(/^\[(.*)\]$/, '$1')
}

/** `HOST:PORT`, `[::1]:PORT` or `:PORT` (every interface). */
export function parseListen(text: string, origin = '--listen'): ListenAddress {
  const m = /^(.*):([^:\]]*)$/.exec(text.trim())
  if (!m) throw new ConfigError(`${origin}: expected HOST:PORT such as 127.0.0.1:9091 or :9091, got "${text}"`)
  return {host: host(m[1], origin), port: port(m[2], origin)}
}

export function loadListen(env: NodeJS.ProcessEnv, listenFlag?: string): ListenAddress {
  if (listenFlag !== undefined) return parseListen(listenFlag)
  const rawPort = env[LISTEN_ENV.port]
  const rawHost = env[LISTEN_ENV.host]
  return {
    host: rawHost === undefined ? undefined : host(rawHost, LISTEN_ENV.host),
    port: rawPort === undefined || rawPort === '' ? DEFAULT_METRICS_PORT : port(rawPort, LISTEN_ENV.port),
  }
}

/** `127.0.0.1:9091`, `[::1]:9091`, `:9091` for every interface. */
export function formatListen(a: ListenAddress): string {
  const h = a.host === undefined ? '' : a.host.includes(':') ? `[${a.host}]` : a.host
  return `${h}:${a.port}`
}
