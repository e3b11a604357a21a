/**
 * `flushdb`: remove this prefix's exporter data, and nothing else — not other
 * prefixes, not another application's nested prefix, not foreign keys that
 * merely share the prefix, not other databases. `allKeys` is FLUSHDB proper.
 */
import {KEY_KINDS} from '../metrics/keys.js'
import type {Connection} from '../redis/cluster.js'
import {masterNodes} from '../redis/scan.js'
import {readKeyFacts} from '../engine/fact-walk.js'
import type {ReadOptions} from '../engine/read-options.js'

export interface FlushPlan {
  /** Exporter keys under the prefix (metric, meta, artifacts). */
  keys: number
  /** Keys under the prefix whose names are off the schema: left alone. */
  foreignKept: number
  /** Keys at exporter-shaped names that are not hashes of the exporter's shape (a string, a list, other fields): left alone. */
  notOursKept: number
  /** Another application's keys under a nested prefix: left alone. */
  otherPrefixKept: number
  sample: string[]
}

export interface FlushResult extends FlushPlan {
  dryRun: boolean
  allKeys: boolean
  deleted: number
  /** Where: `redis://host:port/db`. */
  target: string
  prefix: string
}

/** Counts what a prefix flush would remove, with a sample: exporter-shaped hashes only, as flushPrefix judges them. */
export async function planFlush(redis: Connection, o: ReadOptions, sampleSize = 10): Promise<FlushPlan> {
  const plan: FlushPlan = {keys: 0, foreignKept: 0, notOursKept: 0, otherPrefixKept: 0, sample: []}
  const stats = await readKeyFacts(redis, {...o, pairs: true}, (k) => {
    for (const kind of KEY_KINDS) {
      const {state} = k[kind]!
      if (state === 'foreign') plan.notOursKept++
      if (state !== 'ours') continue
      plan.keys++
      if (plan.sample.length < sampleSize) plan.sample.push(k.key(kind))
    }
  })
  plan.foreignKept = stats.malformed
  plan.otherPrefixKept = stats.otherPrefix
  return plan
}

/** DBSIZE and a first SCAN page of every master (on a cluster, keyless commands would reach one random master). */
export async function planFlushAll(redis: Connection, sampleSize = 10): Promise<FlushPlan> {
  let keys = 0
  const sample: string[] = []
  for (const node of masterNodes(redis)) {
    keys += await node.dbsize()
    const [, page] = await node.scan('0', 'COUNT', sampleSize)
    sample.push(...page.slice(0, sampleSize - sample.length))
  }
  return {keys, foreignKept: 0, notOursKept: 0, otherPrefixKept: 0, sample}
}

/** FLUSHDB on the server, or on every master of a cluster. */
export async function flushAll(redis: Connection): Promise<number> {
  let before = 0
  for (const node of masterNodes(redis)) {
    before += await node.dbsize()
    await node.flushdb('ASYNC')
  }
  return before
}

export {flushPrefix} from '../engine/keyspace.js'
