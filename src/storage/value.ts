/**
 * RedisValue: one sample of one process, backed by Redis — the exporter's
 * replacement for prometheus_client's MmapedValue. Creating one writes the
 * metadata and reads (or initialises) the stored value, exactly as the
 * exporter does on first use of a series.
 */
import {type Labels, originalKey} from '../metrics/pyjson.js'
import type {RedisStorageDict} from './dict.js'

export interface RedisValueParams {
  /** counter | gauge | histogram | summary */
  typ: string
  metricName: string
  /** The sample name: `requests_total`, `latency_bucket`, `latency_sum`, … */
  name: string
  labelnames: readonly string[]
  labelvalues: readonly string[]
  help: string
  /** Gauges only: all, liveall, sum, livesum, max, livemax, min, livemin, mostrecent, livemostrecent. */
  multiprocessMode?: string
}

export class RedisValue {
  readonly key: string
  private value = 0
  private timestamp = 0
  /** Writes of one value reach Redis in the order they were made. */
  private queue: Promise<void> = Promise.resolve()

  private constructor(
    private readonly dict: RedisStorageDict,
    private readonly params: RedisValueParams,
  ) {
    const labels: Labels = {}
    params.labelnames.forEach((n, i) => {
      labels[n] = params.labelvalues[i]
    })
    this.key = originalKey(params.metricName, params.name, labels, params.help)
  }

  static async create(dict: RedisStorageDict, params: RedisValueParams): Promise<RedisValue> {
    const v = new RedisValue(dict, params)
    const mode = params.multiprocessMode ?? ''
    await dict.ensureMetadata(v.key, params.typ || 'counter', mode || 'all')
    ;[v.value, v.timestamp] = await dict.readValue(v.key, params.typ, mode)
    return v
  }

  /** Adds `amount`; like prometheus_client, an increment clears the timestamp to 0. */
  inc(amount = 1): Promise<void> {
    this.value += amount
    this.timestamp = 0
    return this.write()
  }

  dec(amount = 1): Promise<void> {
    return this.inc(-amount)
  }

  /** Sets the value; the timestamp is now (seconds) unless given. */
  set(value: number, timestamp?: number): Promise<void> {
    this.value = value
    this.timestamp = timestamp ?? Date.now() / 1000
    return this.write()
  }

  /** Back to zero, as prometheus_client's `reset()` does through `set(0)`. */
  reset(): Promise<void> {
    return this.set(0)
  }

  get(): number {
    return this.value
  }

  getTimestamp(): number {
    return this.timestamp
  }

  private write(): Promise<void> {
    const [value, timestamp] = [this.value, this.timestamp]
    const {typ, multiprocessMode} = this.params
    const write = () => this.dict.writeValue(this.key, value, timestamp, typ, multiprocessMode ?? '')
    const next = this.queue.then(write, write)
    this.queue = next.catch(() => undefined)
    return next
  }
}
