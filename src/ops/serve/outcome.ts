/** What one walk of `serve` hands from its thread to the server: the page's store part, ready to send, or why there is none. */
import type {RedisConfig} from '../../config/load.js'
import type {ReadStats} from '../../engine/reader.js'
import type {DumpOptions} from '../dump.js'

/** A connection opened or an operation timed on the walk's thread, replayed into the server's RedisMetrics. */
export interface OperationEvent {
  operation: string
  seconds: number
  errorType?: string
}

interface WalkCommon {
  /** Wall-clock ms when the walk began. */
  startedAt: number
  seconds: number
  connections: number
  operations: OperationEvent[]
}

export interface WalkSuccess extends WalkCommon {
  ok: true
  /** The exposition, byte for byte what `redismp dump` prints for the same flags. */
  body: Uint8Array
  /** `body` gzipped once, for every scrape that accepts gzip. */
  gzip: Uint8Array
  /** The family names in its `# TYPE` lines. */
  families: string[]
  samples: number
  /** What the walk read and skipped (served as redismp_walk_keys and redismp_walk_skipped_keys). */
  stats: ReadStats
}

export interface WalkFailure extends WalkCommon {
  ok: false
  error: {name: string; message: string}
}

export type WalkOutcome = WalkSuccess | WalkFailure

export interface WalkerInit {
  config: RedisConfig
  selection: DumpOptions
}
