/**
 * health's census: every key under the prefix, classified as everywhere else
 * (classifyKey), with the Redis type and TTL of each key of ours — read on a
 * lane of its own, the TYPE and PTTL of a SCAN reply's keys written from the
 * reply's bytes, the next SCAN already on its way.
 */
import {type ParsedKey, prefixPattern} from '../metrics/keys.js'
import {ChainedScan} from '../redis/chained-scan.js'
import type {Connection} from '../redis/cluster.js'
import {ReplyError} from '../redis/lane.js'
import {withReadLanes} from '../redis/read-lanes.js'
import {CommandWriter, encodeHead, type ReplyCursor} from '../redis/resp.js'
import {classifyBatch} from './keyspace.js'
import type {ReadOptions} from './read-options.js'
import {DUMP_SCAN_COUNT} from './reader.js'

export interface CensusKey {
  parsed: ParsedKey
  /** What TYPE answered: `hash` for the exporter's keys; `none` when the key went since SCAN. */
  type: string
  /** Milliseconds to live; -1 without TTL; -2 gone. */
  pttl: number
}

export interface CensusCounts {
  /** Keys SCAN showed under the prefix (redismp's own left out). */
  scanned: number
  /** Under the prefix but not of the schema. */
  foreign: number
  /** Exporter-shaped keys under a longer prefix (`gunicorn:shadow:…`). */
  otherPrefix: number
  /** On a cluster: keys SCAN showed under the prefix per master, by `host:port`. */
  byNode?: Map<string, number>
}

const TYPE = encodeHead(2, 'TYPE')
const PTTL = encodeHead(2, 'PTTL')
const HGET_ORIGINAL_KEY = encodeHead(3, 'HGET')

export async function censusKeys(
  redis: Connection,
  o: ReadOptions & {
    /**
     * Told each series' original_key once, from the first meta key of its md5
     * the walk meets (an HGET in the same pipeline as the TYPEs and PTTLs: one
     * more command per series, not per key). A meta that is not a hash or has
     * no original_key tells nothing.
     */
    identities?: (hash: string, originalKey: string) => void
  },
  visit: (k: CensusKey) => void,
): Promise<CensusCounts> {
  const counts: CensusCounts = {scanned: 0, foreign: 0, otherPrefix: 0}
  // The md5s whose meta has been asked for: one entry per series.
  const named = o.identities ? new Set<string>() : undefined
  // One lane per master on a cluster, all at once: a key's TYPE and PTTL (and a
  // meta's original_key) are asked where SCAN found it. The md5 set is shared:
  // one question per series whichever master holds its first meta seen.
  await withReadLanes(redis, ({lanes, names}) =>
    Promise.all(
      lanes.map((lane, i) => {
        const scanner = new ChainedScan(lane, prefixPattern(o.prefix), o.scanCount ?? DUMP_SCAN_COUNT)
        const writer = new CommandWriter(1 << 20)
        return scanner.run((r) => {
          const keys: string[] = []
          const n = r.count()
          for (let i = 0; i < n; i++) {
            r.bulk()
            keys.push(r.text())
          }
          const {ours, foreign, otherPrefix} = classifyBatch(keys, o.prefix)
          counts.scanned += ours.length + foreign.length + otherPrefix.length
          if (lanes.length > 1)
            (counts.byNode ??= new Map()).set(names[i], (counts.byNode.get(names[i]) ?? 0) + ours.length + foreign.length + otherPrefix.length)
          counts.foreign += foreign.length
          counts.otherPrefix += otherPrefix.length
          o.onProgress?.(counts.scanned)
          for (const k of ours) writer.raw(TYPE).arg(k.key).raw(PTTL).arg(k.key)
          const metas: ParsedKey[] = []
          if (named) {
            for (const k of ours) {
              if (k.kind !== 'meta' || named.has(k.hash)) continue
              named.add(k.hash)
              metas.push(k)
            }
          }
          for (const k of metas) writer.raw(HGET_ORIGINAL_KEY).arg(k.key).arg('original_key')
          let at = 0
          let type = ''
          const commands = writer.detach()
          const onReply = (reply: ReplyCursor) => {
            const k = at++
            if (k >= 2 * ours.length) {
              // WRONGTYPE (a meta that is not a hash) or nil: nothing to learn.
              if (reply.type === 0x24 && reply.bulk()) o.identities!(metas[k - 2 * ours.length].hash, reply.text())
              return
            }
            if (reply.type === 0x2d) throw new ReplyError(reply.line())
            if (k % 2 === 0) type = reply.line()
            else visit({parsed: ours[(k - 1) / 2], type, pttl: reply.count()})
          }
          scanner.request(commands, 2 * ours.length + metas.length, onReply, () => writer.reuse(commands))
        })
      }),
    ),
  )
  return counts
}
