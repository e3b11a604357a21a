/**
 * What `serve` says about itself on /metrics, after the store's families:
 * the backend's redis_* metrics (storage/redis-metrics.ts), the walk's
 * redismp_* metrics, and Node's process metrics, all kept by prom-client.
 *
 * A family name appears once on a page: where the store holds a family that
 * one of these also names, the store's wins (it is what the scrape is for)
 * and the self-metric is left out of that page, with one warning per name.
 */
import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from 'prom-client'

import type {SkippedCounts} from '../../engine/reader.js'
import {RedisMetrics} from '../../storage/redis-metrics.js'
import type {WalkOutcome, WalkSuccess} from './outcome.js'

const READING_MAX_AGE_MS = 1000
const WALK_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120]

export class ServeMetrics {
  readonly registry = new Registry()
  readonly redis = new RedisMetrics(this.registry)
  private readonly up: Gauge
  private readonly walks: Counter<'result'>
  private readonly walkDuration: Histogram
  private readonly keys: Gauge
  private readonly samples: Gauge
  private readonly skipped: Gauge<'reason'>
  private readonly lastSuccess: Gauge
  private readonly prunes: Counter<'result'>
  private readonly prunedKeys: Counter
  /** The newest successful walk's start (ms), for the data's age. */
  private freshAt?: number
  private readonly warned = new Set<string>()

  constructor(private readonly warn: (line: string) => void) {
    const registers = [this.registry]
    this.up = new Gauge({name: 'redismp_up', help: 'Whether the last walk of the store succeeded (0 while Redis is unreachable or refuses it).', registers})
    this.walks = new Counter({name: 'redismp_walks_total', help: 'Walks of the store, by result (success or failure).', labelNames: ['result'], registers})
    this.walkDuration = new Histogram({
      name: 'redismp_walk_duration_seconds',
      help: 'Time a walk of the store took, failed ones included.',
      buckets: WALK_BUCKETS,
      registers,
    })
    this.keys = new Gauge({name: 'redismp_walk_keys', help: 'Keys the last successful walk scanned.', registers})
    this.samples = new Gauge({name: 'redismp_walk_samples', help: "Samples of the store's families on the page (from the last successful walk).", registers})
    this.skipped = new Gauge({
      name: 'redismp_walk_skipped_keys',
      help: 'Keys the last successful walk skipped, by reason (as dump counts them).',
      labelNames: ['reason'],
      registers,
    })
    this.lastSuccess = new Gauge({
      name: 'redismp_walk_last_success_timestamp_seconds',
      help: 'When the last successful walk finished, in seconds since the epoch.',
      registers,
    })
    const self = this
    new Gauge({
      name: 'redismp_data_age_seconds',
      help: "Seconds since the walk behind the store's families began: the age of the data served (it keeps growing while walks fail).",
      registers,
      collect() {
        if (self.freshAt !== undefined) this.set((Date.now() - self.freshAt) / 1000)
      },
    })
    this.prunes = new Counter({
      name: 'redismp_prunes_total',
      help: 'Prunes of --prune-every, by result (done, locked: another replica held the lock, failure).',
      labelNames: ['result'],
      registers,
    })
    this.prunedKeys = new Counter({name: 'redismp_pruned_keys_total', help: 'Keys deleted by --prune-every.', registers})
    collectDefaultMetrics({register: this.registry})
    // prom-client names three gauges `nodejs_active_*_total`, which promtool rejects (a gauge is not a counter): left out.
    for (const m of this.registry.getMetricsAsArray()) {
      if (m instanceof Gauge && m.name.endsWith('_total')) this.registry.removeSingleMetric(m.name)
    }
    this.up.set(0)
  }

  walked(outcome: WalkOutcome): void {
    this.reading = undefined
    this.redis.connected(outcome.connections)
    for (const e of outcome.operations) this.redis.record(e.operation, e.seconds, e.errorType)
    this.walks.inc({result: outcome.ok ? 'success' : 'failure'})
    this.walkDuration.observe(outcome.seconds)
    this.up.set(outcome.ok ? 1 : 0)
    if (outcome.ok) this.succeeded(outcome)
  }

  pruned(result: 'done' | 'locked' | 'failure', deletedKeys = 0): void {
    this.reading = undefined
    this.prunes.inc({result})
    this.prunedKeys.inc(deletedKeys)
  }

  /** The newest reading of the registry, shared by the scrapes of the next second (or until a walk or prune changes it). */
  private reading?: {text: Promise<string>; at: number}

  /**
   * The self-metrics' exposition, leaving out any family the store's part of
   * the page already has. Reading the process metrics (memoryUsage,
   * cpuUsage, /proc) costs the server's thread a few milliseconds on a busy
   * host: scrapes within a second of a reading share it, unless a walk or a
   * prune has been counted since, so that a page's self-metrics always
   * describe the walk its store part came from.
   */
  async text(storeFamilies: ReadonlySet<string>): Promise<string> {
    const now = Date.now()
    if (!this.reading || now - this.reading.at >= READING_MAX_AGE_MS) this.reading = {text: this.registry.metrics(), at: now}
    const text = await this.reading.text
    if (storeFamilies.size === 0) return text
    // prom-client writes each family as `# HELP name …`, `# TYPE name …`, then its samples.
    const kept: string[] = []
    for (const block of text.split(/(?=^# HELP )/m)) {
      const name = /^# HELP (\S+)/.exec(block)?.[1]
      if (name !== undefined && storeFamilies.has(name)) {
        if (!this.warned.has(name)) {
          this.warned.add(name)
          this.warn(`the store holds a family named ${name}, as one of redismp's self-metrics is: the store's is served, the self-metric left out`)
        }
        continue
      }
      kept.push(block)
    }
    return kept.join('')
  }

  private succeeded(o: WalkSuccess): void {
    this.freshAt = o.startedAt
    this.keys.set(o.stats.scannedKeys)
    this.samples.set(o.samples)
    for (const [reason, n] of Object.entries(o.stats.skipped) as [keyof SkippedCounts, number][]) {
      this.skipped.set({reason: reason.replaceAll(/[A-Z]/g, (c) => '-' + c.toLowerCase())}, n)
    }
    this.lastSuccess.set((o.startedAt + o.seconds * 1000) / 1000)
  }
}
