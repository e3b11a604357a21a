export {loadConfig, type LoadedConfig, type RedisConfig} from './config/load.js'
export type {ReadOptions} from './engine/read-options.js'
export {ConfigError, ExitCode, RedisAuthenticationError, RedisConnectionError, RedismpError, RedisRefusedError, RedisTimeoutError} from './errors.js'
export {RedisStorageManager, type StorageManagerOptions} from './library/manager.js'
export type {MetricFamily, Sample} from './metrics/aggregate.js'
export {generateLatest} from './metrics/exposition.js'
export {classifyKey, formatKey, GAUGE_MODES, type GaugeMode, METRIC_TYPES, type MetricType, type ParsedKey} from './metrics/keys.js'
export {floatToGoString, parsePyFloat, pyFloatRepr} from './metrics/pyfloat.js'
export {md5Hex, originalKey, parseOriginalKey} from './metrics/pyjson.js'

export {clusterOptions, type Connection, isCluster} from './redis/cluster.js'
export {batchSet, type HashWrite} from './redis/pipeline.js'
export {type RetryOptions, withRetry} from './redis/retry.js'
export {keySlot} from './redis/slot.js'
/**
 * redismp as a library: the Python backend's storage classes and what using
 * them takes — their options, config, errors, retries, Redis Cluster helpers,
 * the key schema and the Python text formats. Nothing else: README's "What it
 * exports" lists exactly these names (test/unit/library-api.test.ts compares the two).
 */
export {RedisStorageClient} from './storage/client.js'
export {type Collection, type CollectorOptions, type LocalCollector, RedisMultiProcessCollector} from './storage/collector.js'

export {RedisStorageDict, type StorageDictOptions, type StoredValue} from './storage/dict.js'
export {RedisMetrics} from './storage/redis-metrics.js'
export {RedisValue, type RedisValueParams} from './storage/value.js'
