/**
 * redismp as a library: the Python backend's storage classes and what using
 * them takes — their options, config, errors, retries, Redis Cluster helpers,
 * the key schema and the Python text formats. Nothing else: README's "What it
 * exports" lists exactly these names (test/unit/library-api.test.ts compares the two).
 */
export {RedisStorageClient} from './storage/client.js'
export {RedisMetrics} from './storage/redis-metrics.js'
export {RedisStorageDict, type StorageDictOptions, type StoredValue} from './storage/dict.js'
export {RedisValue, type RedisValueParams} from './storage/value.js'
export {RedisMultiProcessCollector, type CollectorOptions, type Collection, type LocalCollector} from './storage/collector.js'
export {RedisStorageManager, type StorageManagerOptions} from './library/manager.js'
export type {ReadOptions} from './engine/read-options.js'
export {generateLatest} from './metrics/exposition.js'
export type {MetricFamily, Sample} from './metrics/aggregate.js'

export {loadConfig, type RedisConfig, type LoadedConfig} from './config/load.js'
export {batchSet, type HashWrite} from './redis/pipeline.js'
export {withRetry, type RetryOptions} from './redis/retry.js'
export {isCluster, clusterOptions, type Connection} from './redis/cluster.js'
export {keySlot} from './redis/slot.js'
export {
  ExitCode,
  RedismpError,
  ConfigError,
  RedisConnectionError,
  RedisTimeoutError,
  RedisAuthenticationError,
  RedisRefusedError,
} from './errors.js'

export {classifyKey, formatKey, GAUGE_MODES, METRIC_TYPES, type GaugeMode, type MetricType, type ParsedKey} from './metrics/keys.js'
export {floatToGoString, parsePyFloat, pyFloatRepr} from './metrics/pyfloat.js'
export {md5Hex, originalKey, parseOriginalKey} from './metrics/pyjson.js'
