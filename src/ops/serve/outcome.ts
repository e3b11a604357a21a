/** What one walk of `serve` hands from its thread to the server: the page's store part, ready to send, or why there is none. */
import type {ReadStats} from '../../storage/reader.js'

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
  stats: ReadStats
  /** One line about skipped data, as dump warns it; undefined when there was none. */
  warning?: string
}

export interface WalkFailure extends WalkCommon {
  ok: false
  error: {name: string; message: string}
}

export type WalkOutcome = WalkSuccess | WalkFailure

export interface WalkerInit {
  config: import('../../config/load.js').RedisConfig
  selection: import('../dump.js').DumpOptions
}
