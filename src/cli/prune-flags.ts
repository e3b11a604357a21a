/**
 * What to prune: the choice flags `prune` and `serve --prune-every` share,
 * and the PruneOptions they make, so that a sidecar prunes exactly as the
 * CronJob it replaces did.
 */
import {Flags} from '@oclif/core'

import type {RedisConfig} from '../config/load.js'
import {durationFlag} from './choices.js'

export const pruneChoiceFlags = {
  local: Flags.boolean({description: 'pids that do not run on this host are dead'}),
  stale: durationFlag({description: 'pids with no write for this long are dead (90s, 10m, 2h)'}),
  orphans: Flags.boolean({description: 'delete metrics without meta and metas without metric'}),
  'orphan-grace': durationFlag({description: 'leave orphans younger than this [default: 60s]'}),
  artifacts: Flags.boolean({description: "delete every bare-gauge twin (the exporter's init artifacts)"}),
  'older-than': durationFlag({description: 'delete every series not written for this long, counters included'}),
  'fix-ttl': Flags.boolean({description: 'give keys without a TTL the configured TTL (REDIS_TTL_SECONDS)'}),
}

export interface PruneChoiceFlagValues {
  local?: boolean
  stale?: number
  orphans?: boolean
  'orphan-grace'?: number
  artifacts?: boolean
  'older-than'?: number
  'fix-ttl'?: boolean
}

/** The part of ops/prune's PruneOptions these flags choose (cli/ sits below ops/, so the shape is spelled here; test/unit/flag-shapes.test.ts checks it still fits). */
export interface PruneChoices {
  prefix: string
  pids: number[]
  local?: boolean
  staleMs?: number
  orphans?: boolean
  /** Undefined: prune's default (60s). */
  orphanGraceMs?: number
  artifacts?: boolean
  olderThanMs?: number
  fixTtlSeconds?: number
}

export function pruneChoices(flags: PruneChoiceFlagValues, config: Pick<RedisConfig, 'prefix' | 'ttlSeconds'>, pids: number[] = []): PruneChoices {
  return {
    prefix: config.prefix,
    pids,
    local: flags.local,
    staleMs: flags.stale,
    orphans: flags.orphans,
    orphanGraceMs: flags['orphan-grace'],
    artifacts: flags.artifacts,
    olderThanMs: flags['older-than'],
    fixTtlSeconds: flags['fix-ttl'] ? config.ttlSeconds : undefined,
  }
}

/** Whether the options name any dead worker or choose anything to delete. */
export function choosesSomething(o: PruneChoices): boolean {
  const selects = o.pids.length > 0 || o.local || o.staleMs !== undefined
  return Boolean(selects || o.orphans || o.artifacts || o.olderThanMs !== undefined || o.fixTtlSeconds !== undefined)
}
