/**
 * The connection flags every command shares (help group CONNECTION). They are
 * read as text and checked by the same zod field schemas as the REDIS_*
 * variables, so a bad `--port` and a bad `REDIS_PORT` get the same explanation.
 */
import {Flags} from '@oclif/core'

import type {FlagInput} from '../config/load.js'
import type {FieldName} from '../config/schema.js'

const helpGroup = 'CONNECTION'

export const connectionFlags = {
  url: Flags.string({helpGroup, description: 'redis:// or rediss:// URL (user, password, host, port, db) [env: REDIS_URL]'}),
  host: Flags.string({char: 'H', helpGroup, description: 'Redis host [env: REDIS_HOST, default: 127.0.0.1]'}),
  port: Flags.string({char: 'p', helpGroup, description: 'Redis port [env: REDIS_PORT, default: 6379]'}),
  db: Flags.string({char: 'n', helpGroup, description: 'database number [env: REDIS_DB, default: 0]'}),
  user: Flags.string({helpGroup, description: 'ACL user name [env: REDIS_USERNAME]'}),
  password: Flags.string({
    helpGroup,
    description: 'password; prefer REDIS_PASSWORD, which stays out of shell history and ps [env: REDIS_PASSWORD]',
  }),
  tls: Flags.boolean({helpGroup, allowNo: true, description: 'connect with TLS [env: REDIS_SSL]'}),
  'tls-ca': Flags.string({helpGroup, description: 'CA certificate file (PEM) [env: REDIS_SSL_CA]'}),
  'tls-cert': Flags.string({helpGroup, description: 'client certificate file (PEM) [env: REDIS_SSL_CERT]'}),
  'tls-key': Flags.string({helpGroup, description: 'client key file (PEM) [env: REDIS_SSL_KEY]'}),
  'tls-servername': Flags.string({helpGroup, description: 'name to verify the server certificate against [env: REDIS_SSL_SERVERNAME]'}),
  'tls-insecure': Flags.boolean({helpGroup, description: 'do not verify the server certificate [env: REDIS_SSL_INSECURE]'}),
  sentinels: Flags.string({helpGroup, description: 'ask these Sentinels for the master: host:port,host:port [env: REDIS_SENTINELS]'}),
  'sentinel-master': Flags.string({helpGroup, description: 'master group name known to the Sentinels [env: REDIS_SENTINEL_MASTER, default: mymaster]'}),
  'cluster-nodes': Flags.string({helpGroup, description: 'seed nodes of a Redis Cluster: host:port,host:port (any one node is found to be a cluster by itself too) [env: REDIS_CLUSTER_NODES]'}),
  'cluster-nat-map': Flags.string({helpGroup, description: 'addresses cluster nodes announce mapped to reachable ones: 10.0.0.5:6379=localhost:7000,… [env: REDIS_CLUSTER_NAT_MAP]'}),
  prefix: Flags.string({helpGroup, description: 'key prefix [env: REDIS_KEY_PREFIX, default: gunicorn]'}),
  'connect-timeout': Flags.string({helpGroup, description: 'connect timeout, e.g. 5s or 500ms [env: REDIS_CONNECT_TIMEOUT, default: 5s]'}),
  'command-timeout': Flags.string({helpGroup, description: 'per-command timeout [env: REDIS_COMMAND_TIMEOUT, default: 10s]'}),
}

/** Flags of commands that write keys (seed, prune --fix-ttl). */
export const ttlFlags = {
  'ttl-seconds': Flags.string({helpGroup: 'STORAGE', description: 'TTL of written keys [env: REDIS_TTL_SECONDS, default: 300]'}),
  'ttl-disabled': Flags.boolean({helpGroup: 'STORAGE', allowNo: true, description: 'write keys without a TTL [env: REDIS_TTL_DISABLED]'}),
}

const FLAG_FIELDS: Record<string, FieldName> = {
  url: 'url',
  host: 'host',
  port: 'port',
  db: 'db',
  user: 'username',
  password: 'password',
  tls: 'tls',
  'tls-ca': 'tlsCa',
  'tls-cert': 'tlsCert',
  'tls-key': 'tlsKey',
  'tls-servername': 'tlsServername',
  'tls-insecure': 'tlsInsecure',
  sentinels: 'sentinels',
  'sentinel-master': 'sentinelMaster',
  'cluster-nodes': 'clusterNodes',
  'cluster-nat-map': 'clusterNatMap',
  prefix: 'prefix',
  'connect-timeout': 'connectTimeoutMs',
  'command-timeout': 'commandTimeoutMs',
  'ttl-seconds': 'ttlSeconds',
  'ttl-disabled': 'ttlDisabled',
}

/** The config-relevant flags the user actually gave, as text for the schema. */
export function flagInput(flags: Record<string, unknown>): FlagInput {
  const input: FlagInput = {}
  for (const [name, f] of Object.entries(FLAG_FIELDS)) {
    const v = flags[name]
    if (v === undefined) continue
    // oclif gives `false` for an absent boolean flag; only an explicit --no-X means false.
    if (v === false && !process.argv.includes(`--no-${name}`)) continue
    input[f] = {value: String(v), flag: `--${name}`}
  }
  return input
}
