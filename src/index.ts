/**
 * redismp as a library: the Python backend's storage classes, the config
 * loader, the Redis helpers and the metric formats they share with the CLI.
 */
export {RedisStorageClient} from './storage/client.js'
export {RedisStorageDict, type StorageDictOptions, type StoredValue} from './storage/dict.js'
export {RedisValue, type RedisValueParams} from './storage/value.js'
export {RedisMultiProcessCollector, type CollectorOptions, type Collection, type LocalCollector} from './storage/collector.js'
export {RedisStorageManager, type StorageManagerOptions} from './storage/manager.js'
export {readKeyFacts, readMetricKeys, type KeyFacts, type ReadKey, type ReadStats, type SkippedCounts} from './storage/reader.js'

export {
  ExitCode,
  RedismpError,
  ConfigError,
  RedisConnectionError,
  RedisTimeoutError,
  RedisAuthenticationError,
  RedisRefusedError,
  InterruptedError,
  RefusedError,
  PartialFailureError,
  CheckFailedError,
} from './errors.js'

export {withRetry, isTransient, type RetryOptions} from './redis/retry.js'
export {batchSet, pipelineReplies, type HashWrite} from './redis/pipeline.js'
export {scanBatches, scanKeys, masterNodes} from './redis/scan.js'
export {connectRedis, closeRedis, redisOptions} from './redis/connect.js'
export {isCluster, clusterOptions, type Connection} from './redis/cluster.js'
export {keySlot} from './redis/slot.js'
export {mapRedisError} from './redis/errors.js'

export {loadConfig, readEnv, DEFAULTS, type RedisConfig, type LoadedConfig, type FlagInput} from './config/load.js'
export {EnvSchema, ENV_VARS} from './config/schema.js'
export {parseDuration} from './config/duration.js'

export {Aggregator, type MetricFamily, type Sample, type StoredSample} from './metrics/aggregate.js'
export {generateLatest} from './metrics/exposition.js'
export {classifyKey, formatKey, escapeGlob, GAUGE_MODES, METRIC_TYPES, type GaugeMode, type MetricType, type ParsedKey} from './metrics/keys.js'
export {floatToGoString, parsePyFloat, pyFloatRepr} from './metrics/pyfloat.js'
export {md5Hex, originalKey, parseOriginalKey} from './metrics/pyjson.js'
