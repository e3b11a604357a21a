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

/** What prune should remove: the choices of ops/prune's PruneOptions (cli/ sits below ops/, which builds on this). */
export interface PruneKinds {
  /** Workers whose pid does not run on this host are dead. */
  local?: boolean
  /** Workers with no write for this long are dead (ms). */
  staleMs?: number
  orphans?: boolean
  /** Orphans younger than this are left alone: the exporter writes metric and meta in two steps (ms). Undefined: 60s. */
  orphanGraceMs?: number
  artifacts?: boolean
  /** Every series not written for this long goes, counters included (ms). */
  olderThanMs?: number
  /** TTL to give keys that have none; undefined: leave TTLs alone. */
  fixTtlSeconds?: number
}

/** The part of ops/prune's PruneOptions these flags fill: the kinds, the prefix and the pids named dead. */
export interface PruneChoices extends PruneKinds {
  prefix: string
  pids: number[]
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
