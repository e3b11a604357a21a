/**
 * `stats`: where the store's keys and memory go, and what is about to go
 * wrong. One walk (the dump's: SCAN, then per batch the metas of new series
 * with their created_at and an HMGET and a PTTL per metric key, pipelined),
 * counted instead of aggregated; MEMORY USAGE on a few keys per family (every
 * key with `exact`), asked for once per batch.
 */
import type {Connection} from '../../redis/cluster.js'

import {clockForAges} from '../../redis/time.js'
import type {ReadOptions} from '../../engine/read-options.js'
import {readMetricKeys, totalSkipped} from '../../engine/reader.js'
import {globToRegExp} from '../dump.js'
import {StatsCollector} from './collect.js'
import {buildReport, type StatsReport} from './report.js'

export type {Suspect} from './labels.js'
export type {FamilyRow, Finding, LabelPairRow, LabelRow, PidRow, StatsReport, TtlRow} from './report.js'
export type {Collision} from './writers.js'

export interface StatsOptions extends ReadOptions {
  endpoint: string
  /** Only families with this name or glob. */
  metric?: string
  /** MEMORY USAGE on this many keys per family. */
  samples: number
  /** MEMORY USAGE on every key (one more round trip per batch, two commands per key). */
  exact: boolean
  /** Rows per ranking. */
  top: number
  /** A pid with no write for this long is stale. */
  staleSeconds: number
  ttlDisabled?: boolean
}

export async function stats(redis: Connection, o: StatsOptions): Promise<StatsReport> {
  const nameRe = o.metric ? globToRegExp(o.metric) : undefined
  const nowSeconds = await clockForAges(redis)
  const collector = new StatsCollector({nowSeconds, samples: o.samples, exact: o.exact})
  const read = await readMetricKeys(
    redis,
    {
      prefix: o.prefix,
      withTtl: true,
      withCreatedAt: true,
      scanCount: o.scanCount,
      onProgress: o.onProgress,
      metricFilter: nameRe ? (name) => nameRe.test(name) || nameRe.test(`${name}_total`) : undefined,
      memory: {pick: (k) => collector.pick(k), told: (k, metric, meta) => collector.memory(k, metric, meta)},
    },
    (k) => collector.add(k),
  )
  return buildReport(collector, {
    ...o,
    nowSeconds,
    artifacts: read.skipped.artifacts,
    skipped: totalSkipped(read.skipped),
  })
}
