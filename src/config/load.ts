/**
 * The effective configuration: defaults, then REDIS_URL, then the other REDIS_*
 * variables, then `--url`, then the other flags — each later layer wins. Every
 * value remembers where it came from so `redismp config` can say so.
 */
import {ConfigError} from '../errors.js'
import {ENV_VARS, EnvSchema, field, type FieldName, type FieldValues} from './schema.js'
import {DEFAULTS, type Defaults, settingOf} from './settings.js'

/**
 * The effective configuration, one field per setting of the table (settings.ts)
 * but `url`, which is taken apart into the others; a setting without a default may be unset.
 */
export type RedisConfig = Defaults & {[F in Exclude<FieldName, keyof Defaults | 'url'>]?: FieldValues[F]}

export type Source = 'default' | 'env' | 'env:REDIS_URL' | 'flag' | 'flag:--url'
export type ConfigField = keyof RedisConfig

export interface LoadedConfig {
  config: RedisConfig
  sources: Record<ConfigField, Source>
}

/** Raw flag values (strings as typed), keyed by field; the flag's name is for messages. */
export type FlagInput = Partial<Record<FieldName, {value: string; flag: string}>>

function urlParts(url: URL): Partial<RedisConfig> {
  const parts: Partial<RedisConfig> = {tls: url.protocol === 'rediss:'}
  if (url.hostname) parts.host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (url.port) parts.port = Number(url.port)
  const db = url.pathname.replace(/^\//, '')
  if (db) parts.db = Number(db)
  if (url.username) parts.username = decodeURIComponent(url.username)
  if (url.password) parts.password = decodeURIComponent(url.password)
  return parts
}

function describeValue(f: FieldName, raw: string): string {
  return settingOf(f).secret ? '' : `, got "${raw}"`
}

function parseField<F extends FieldName>(f: F, raw: string, origin: string): FieldValues[F] {
  const result = field[f].safeParse(raw)
  if (!result.success) {
    throw new ConfigError(`${origin}: ${result.error.issues[0].message}${describeValue(f, raw)}`)
  }
  return result.data as FieldValues[F]
}

/** Reads and checks the environment. Throws ConfigError naming the variable on a bad value. */
export function readEnv(env: NodeJS.ProcessEnv): Partial<FieldValues> {
  const subset = Object.fromEntries(Object.values(ENV_VARS).map((name) => [name, env[name]]))
  const result = EnvSchema.safeParse(subset)
  if (!result.success) {
    const issue = result.error.issues[0]
    const name = String(issue.path[0]) as (typeof ENV_VARS)[FieldName]
    const f = (Object.keys(ENV_VARS) as FieldName[]).find((k) => ENV_VARS[k] === name)!
    throw new ConfigError(`${name}: ${issue.message}${describeValue(f, String(env[name]))}`)
  }
  const byField: Partial<FieldValues> = {}
  for (const f of Object.keys(ENV_VARS) as FieldName[]) {
    const v = (result.data as Record<string, unknown>)[ENV_VARS[f]]
    if (v !== undefined) (byField as Record<string, unknown>)[f] = v
  }
  return byField
}

/**
 * Kubernetes gives every pod of a namespace with a Service named `redis` the
 * Docker-style link variables, REDIS_PORT=tcp://10.96.0.11:6379 among them.
 * That is not a port anyone set: it is left out, and only an error when
 * nothing else (REDIS_URL, --port, --url) says which port to use.
 */
const SERVICE_LINK = /^tcp:\/\/[^\s/]+:\d+$/

function serviceLinkError(value: string): ConfigError {
  return new ConfigError(
    `REDIS_PORT is "${value}": Kubernetes sets that for a Service named "redis" (a service link), it is not a port; set enableServiceLinks: false in the pod spec, or set REDIS_URL (or REDIS_HOST and REDIS_PORT) explicitly`,
  )
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: FlagInput = {}): LoadedConfig {
  const serviceLink = SERVICE_LINK.test(env.REDIS_PORT?.trim() ?? '') ? env.REDIS_PORT!.trim() : undefined
  if (serviceLink) env = {...env, REDIS_PORT: undefined}

  const config: RedisConfig = {...DEFAULTS}
  const sources = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, 'default'])) as Record<ConfigField, Source>
  const apply = (values: Partial<RedisConfig>, source: Source) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue
      ;(config as unknown as Record<string, unknown>)[k] = v
      sources[k as ConfigField] = source
    }
  }

  const {url: envUrl, ...envFields} = readEnv(env)
  if (envUrl) apply(urlParts(envUrl), 'env:REDIS_URL')
  apply(envFields, 'env')

  const {url: urlFlag, ...fieldFlags} = flags
  if (urlFlag) apply(urlParts(parseField('url', urlFlag.value, urlFlag.flag)), 'flag:--url')
  for (const [f, input] of Object.entries(fieldFlags) as [FieldName, {value: string; flag: string}][]) {
    apply({[f]: parseField(f, input.value, input.flag)} as Partial<RedisConfig>, 'flag')
  }

  if (serviceLink && sources.port === 'default' && !config.sentinels) throw serviceLinkError(serviceLink)
  if (config.clusterNodes && config.sentinels) {
    throw new ConfigError(`${ENV_VARS.clusterNodes} and ${ENV_VARS.sentinels}: a Redis Cluster is not found through Sentinels; set one of them`)
  }
  if (config.clusterNodes && config.db !== 0) {
    throw new ConfigError(`${ENV_VARS.db} is ${config.db}, but a Redis Cluster has only db 0 (${ENV_VARS.clusterNodes} is set)`)
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(`${ENV_VARS.tlsCert} and ${ENV_VARS.tlsKey}: expected both a client certificate and its key, got only one`)
  }
  return {config, sources}
}

/** Where a value came from, for people: `env REDIS_PORT`, `flag`, `default`. */
export function describeSource(f: ConfigField, source: Source): string {
  if (source === 'env') return `env ${ENV_VARS[f as FieldName]}`
  if (source === 'env:REDIS_URL') return 'env REDIS_URL'
  if (source === 'flag:--url') return 'flag --url'
  return source
}

export {DEFAULTS} from './settings.js'
