/**
 * Every setting once: its environment variable, its default, its parser, and
 * its flag (name, letter, help group, help text). The environment schema
 * (schema.ts), the defaults, types and loader (load.ts) and the oclif flags
 * (cli/flags.ts) are all made from this table, so a new setting is one row.
 *
 * Row order is the order of `redismp config`, of the flags in help, and of
 * the checks (the first bad variable or flag is the one reported).
 */
import {z} from 'zod/v3' // why v3: see parsers.ts

import {boolText, hostPortsText, intText, natMapText, prefixText, text, timeoutText, urlText} from './parsers.js'

/** Help groups: CONNECTION flags are on every command; the others only where a command spreads them in. */
export type FlagGroup = 'CONNECTION' | 'STORAGE'

export interface FlagSpec {
  /** `--name`. */
  name: string
  /** One-letter form, `-H`. */
  char?: string
  /** A switch instead of a value; `negatable` also takes `--no-name`. */
  switch?: 'plain' | 'negatable'
  group: FlagGroup
  /** What help says; `[env: …, default: …]` is added from the row. */
  help: string
}

export interface Setting {
  env: string
  /** Checks the text of the variable or the flag and gives the value. */
  parse: z.ZodType<unknown, z.ZodTypeDef, string>
  default?: unknown
  /** The default as help shows it when not the value itself (5s for 5000 ms). Switches show none. */
  defaultHelp?: string
  flag?: FlagSpec
  /** Never shown: `redismp config` says only that it is set. */
  secret?: boolean
}

const CONNECTION = 'CONNECTION'
const STORAGE = 'STORAGE'

export const SETTINGS = {
  /** Host, port, db, user, password and TLS in one; taken apart by the loader, a layer below the other variables. */
  url: {
    env: 'REDIS_URL',
    parse: urlText,
    // It may carry a password.
    secret: true,
    flag: {name: 'url', group: CONNECTION, help: 'redis:// or rediss:// URL (user, password, host, port, db)'},
  },
  host: {env: 'REDIS_HOST', parse: text, default: '127.0.0.1', flag: {name: 'host', char: 'H', group: CONNECTION, help: 'Redis host'}},
  port: {
    env: 'REDIS_PORT',
    parse: intText(1, 65_535, 'a port number from 1 to 65535'),
    default: 6379,
    flag: {name: 'port', char: 'p', group: CONNECTION, help: 'Redis port'},
  },
  db: {
    env: 'REDIS_DB',
    parse: intText(0, 65_535, 'a database number (0, 1, 2, …)'),
    default: 0,
    flag: {name: 'db', char: 'n', group: CONNECTION, help: 'database number'},
  },
  username: {env: 'REDIS_USERNAME', parse: text, flag: {name: 'user', group: CONNECTION, help: 'ACL user name'}},
  password: {
    env: 'REDIS_PASSWORD',
    parse: z.string(),
    secret: true,
    flag: {name: 'password', group: CONNECTION, help: 'password; prefer REDIS_PASSWORD, which stays out of shell history and ps'},
  },
  tls: {env: 'REDIS_SSL', parse: boolText, default: false, flag: {name: 'tls', switch: 'negatable', group: CONNECTION, help: 'connect with TLS'}},
  tlsCa: {env: 'REDIS_SSL_CA', parse: text, flag: {name: 'tls-ca', group: CONNECTION, help: 'CA certificate file (PEM)'}},
  tlsCert: {env: 'REDIS_SSL_CERT', parse: text, flag: {name: 'tls-cert', group: CONNECTION, help: 'client certificate file (PEM)'}},
  tlsKey: {env: 'REDIS_SSL_KEY', parse: text, flag: {name: 'tls-key', group: CONNECTION, help: 'client key file (PEM)'}},
  tlsServername: {
    env: 'REDIS_SSL_SERVERNAME',
    parse: text,
    flag: {name: 'tls-servername', group: CONNECTION, help: 'name to verify the server certificate against'},
  },
  tlsInsecure: {
    env: 'REDIS_SSL_INSECURE',
    parse: boolText,
    default: false,
    flag: {name: 'tls-insecure', switch: 'plain', group: CONNECTION, help: 'do not verify the server certificate'},
  },
  /** Sentinels to ask for the master (host and port are then not used). */
  sentinels: {
    env: 'REDIS_SENTINELS',
    parse: hostPortsText,
    flag: {name: 'sentinels', group: CONNECTION, help: 'ask these Sentinels for the master: host:port,host:port'},
  },
  /** The master group name the Sentinels know. */
  sentinelMaster: {
    env: 'REDIS_SENTINEL_MASTER',
    parse: text,
    default: 'mymaster',
    flag: {name: 'sentinel-master', group: CONNECTION, help: 'master group name known to the Sentinels'},
  },
  /** Seed nodes of a Redis Cluster (host and port are then not used); a single node also finds its cluster itself. */
  clusterNodes: {
    env: 'REDIS_CLUSTER_NODES',
    parse: hostPortsText,
    flag: {
      name: 'cluster-nodes',
      group: CONNECTION,
      help: 'seed nodes of a Redis Cluster: host:port,host:port (any one node is found to be a cluster by itself too)',
    },
  },
  /** Addresses cluster nodes announce, mapped to ones this host reaches (ioredis's natMap). */
  clusterNatMap: {
    env: 'REDIS_CLUSTER_NAT_MAP',
    parse: natMapText,
    flag: {name: 'cluster-nat-map', group: CONNECTION, help: 'addresses cluster nodes announce mapped to reachable ones: 10.0.0.5:6379=localhost:7000,…'},
  },
  /** Key prefix without a trailing `:`. */
  prefix: {env: 'REDIS_KEY_PREFIX', parse: prefixText, default: 'gunicorn', flag: {name: 'prefix', group: CONNECTION, help: 'key prefix'}},
  ttlSeconds: {
    env: 'REDIS_TTL_SECONDS',
    parse: intText(1, 2 ** 31 - 1, 'a whole number of seconds greater than 0'),
    default: 300,
    flag: {name: 'ttl-seconds', group: STORAGE, help: 'TTL of written keys'},
  },
  ttlDisabled: {
    env: 'REDIS_TTL_DISABLED',
    parse: boolText,
    default: false,
    flag: {name: 'ttl-disabled', switch: 'negatable', group: STORAGE, help: 'write keys without a TTL'},
  },
  /** REDIS_ENABLED as the exporter reads it: reported, not required. */
  enabled: {env: 'REDIS_ENABLED', parse: boolText, default: false},
  connectTimeoutMs: {
    env: 'REDIS_CONNECT_TIMEOUT',
    parse: timeoutText,
    default: 5000,
    defaultHelp: '5s',
    flag: {name: 'connect-timeout', group: CONNECTION, help: 'connect timeout, e.g. 5s or 500ms'},
  },
  commandTimeoutMs: {
    env: 'REDIS_COMMAND_TIMEOUT',
    parse: timeoutText,
    default: 10_000,
    defaultHelp: '10s',
    flag: {name: 'command-timeout', group: CONNECTION, help: 'per-command timeout'},
  },
} as const satisfies Record<string, Setting>

export type Settings = typeof SETTINGS
export type SettingName = keyof Settings
/** The names in table order. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[]

/** What a setting's parser gives. */
export type SettingValue<K extends SettingName> = z.output<Settings[K]['parse']>
type WithDefault = {[K in SettingName]: Settings[K] extends {default: unknown} ? K : never}[SettingName]

/** A setting's row, seen through the common shape (the table's own type keeps each row's literals). */
export const settingOf = (name: SettingName): Setting => SETTINGS[name]

/** The help line of a flag: its text, the variable behind it, and its default unless it is a switch. */
export function flagHelp(name: SettingName): string {
  const s = settingOf(name)
  const shown = s.defaultHelp ?? (s.default === undefined || typeof s.default === 'boolean' ? undefined : String(s.default))
  return `${s.flag?.help} [env: ${s.env}${shown === undefined ? '' : `, default: ${shown}`}]`
}

/** Every setting with a default, at its default. */
export type Defaults = {[K in WithDefault]: SettingValue<K>}
// A row whose default is not of its parser's type fails to compile here.
export const DEFAULTS: Defaults = Object.fromEntries(
  SETTING_NAMES.filter((k) => 'default' in SETTINGS[k]).map((k) => [k, (SETTINGS[k] as {default: unknown}).default]),
) as {[K in WithDefault]: Settings[K] extends {default: infer D} ? D : never}
