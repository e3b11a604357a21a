/**
 * What to dump: the flags `dump` and `serve` share, and the DumpOptions they
 * make, so that `serve` serves exactly what `dump` prints for the same flags.
 */
import {Flags} from '@oclif/core'

import type {GaugeMode, MetricType} from '../metrics/keys.js'
import {durationFlag, labelListFlag, modeFlag, pidFlag, typeFlag} from './choices.js'

export const dumpSelectionFlags = {
  mode: modeFlag({description: 'fold every gauge with this mode instead of its stored one'}),
  metric: Flags.string({description: 'only metrics with this name or glob (gunicorn_worker_*)'}),
  type: typeFlag(),
  pid: pidFlag,
  raw: Flags.boolean({description: 'no aggregation: one sample per pid and series, with a pid label'}),
  by: labelListFlag({description: "totals that keep only these labels (and le), as PromQL's sum by(…): --by path,method"}),
  without: labelListFlag({description: "totals over these labels, as PromQL's sum without(…): --without worker_id (pid is a label of all/liveall gauges)"}),
  'live-within': durationFlag({description: 'pids with no write newer than this (90s, 10m) are dead for live* gauges'}),
}

/** What these flags choose of a dump: the part of ops/dump's DumpOptions they fill (cli/ sits below ops/, which builds on this). */
export interface DumpSelection {
  modeOverride?: GaugeMode
  /** Metric name or glob (`*`, `?`, `[abc]`). */
  metric?: string
  type?: MetricType
  pid?: number
  raw?: boolean
  /** Totals over labels after aggregation (PromQL's `sum by(…)` / `sum without(…)`), see metrics/regroup.ts. */
  by?: string[]
  without?: string[]
  liveWithinMs?: number
}

export interface DumpSelectionFlagValues {
  mode?: GaugeMode
  metric?: string
  type?: MetricType
  pid?: number
  raw?: boolean
  /** As oclif types a repeatable list flag: each use's names (or the names, flat). */
  by?: (string | string[])[]
  without?: (string | string[])[]
  'live-within'?: number
}

export function dumpSelection(flags: DumpSelectionFlagValues): DumpSelection {
  return {
    modeOverride: flags.mode,
    metric: flags.metric,
    type: flags.type,
    pid: flags.pid,
    raw: flags.raw,
    by: flags.by?.flat(),
    without: flags.without?.flat(),
    liveWithinMs: flags['live-within'],
  }
}
