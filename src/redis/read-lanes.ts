/**
 * The read lanes of a walk: one on a single server, one per master on a
 * cluster, with the way to the lane that owns a key.
 *
 * A cluster walk must never give a wrong answer when the cluster changes
 * under it. SCAN on a master while one of its slots migrates can miss a key
 * for good (moved to a master whose SCAN had passed it), so a walk is exact
 * only if no slot changed hands and none was migrating from its start to its
 * end: each master's own account of itself (CLUSTER NODES, its `myself`
 * line: id, role, config epoch, slots with migration marks) is read before
 * the walk and after it, and the walk fails with exit 3 when they differ, when
 * a slot was migrating, or when a slot had no master. A key read from a master
 * that no longer owns it answers MOVED or ASK, which fails the walk too
 * (mapRedisError), and so does a master that dies (its lane's connection
 * closes). Nothing is re-read: a failed walk is run again.
 */
import {RedisConnectionError} from '../errors.js'
import {type Cluster, clusterMasters, type Connection, isCluster, nodeName} from './cluster.js'
import {mapRedisError} from './errors.js'
import {RawLane, ReplyError} from './lane.js'
import {encodeHead} from './resp.js'
import {keySlotOf, SLOTS} from './slot.js'

export interface ReadLanes {
  lanes: RawLane[]
  /** Where each lane reads: `host:port`. */
  names: string[]
  /** The lane of the master that owns the key in `b[start, end)`; always 0 on a single server. */
  laneOf(b: Uint8Array, start?: number, end?: number): number
  /**
   * An error of the walk as said of the master whose lane failed (one that
   * died, a slot MOVED away), not of the seed node: for an error that reaches
   * the caller of a listing before the walk sees it (a batch's reads).
   */
  explain(error: unknown): unknown
}

/** How often an idle lane is PINGed (RawLane.keepAlive): within a server `timeout` of 2 s or more. */
const KEEP_ALIVE_MS = 1000

/** Runs `work` on the read lanes of `redis` and closes them however it ends. */
export async function withReadLanes<T>(redis: Connection, work: (lanes: ReadLanes) => Promise<T>): Promise<T> {
  const once = async function* (lanes: ReadLanes) {
    yield await work(lanes)
  }
  let result: T | undefined
  // Taken to the end, so that on a cluster the work is checked against a change as a listing is.
  for await (const r of readLanesYielding(redis, once)) result = r
  return result as T
}

/**
 * withReadLanes for a walk that hands out what it reads as it goes (a
 * listing): the lanes stay open while the caller takes the items, and close
 * when it has taken the last or stops. On a cluster, a walk taken to its end
 * fails as withReadLanes's does when the cluster changed under it.
 */
export async function* readLanesYielding<T>(redis: Connection, work: (lanes: ReadLanes) => AsyncIterable<T>): AsyncGenerator<T> {
  const held = await holdReadLanes(redis)
  for (const lane of held.lanes) lane.keepAlive(KEEP_ALIVE_MS)
  let stoppedEarly = true
  try {
    yield* work(held)
    stoppedEarly = false
    await held.verify()
  } catch (error) {
    stoppedEarly = false
    throw held.explain(error)
  } finally {
    try {
      // A caller that took what it needed and stopped (keys --limit) learns whether the cluster stood still meanwhile.
      if (stoppedEarly) await held.verify()
    } catch (error) {
      // eslint-disable-next-line no-unsafe-finally -- how a generator's return() says the check failed
      throw held.explain(error)
    } finally {
      held.close()
    }
  }
}

/** Read lanes open for one walk. */
interface HeldLanes extends ReadLanes {
  /** After the walk: fails when the cluster changed under it (nothing to check on one server). */
  verify(): Promise<void>
  close(): void
}

async function holdReadLanes(redis: Connection): Promise<HeldLanes> {
  if (!isCluster(redis)) {
    const lane = await RawLane.open(redis)
    return {lanes: [lane], names: [''], laneOf: () => 0, verify: async () => undefined, explain: (error) => error, close: () => lane.close()}
  }
  return holdClusterLanes(redis)
}

/** One master's `myself` line of CLUSTER NODES, without the parts that change by themselves (ping times, link state). */
interface SelfLine {
  id: string
  master: boolean
  epoch: string
  slots: string[]
}

const CLUSTER_NODES = encodeHead(2, 'CLUSTER', 'NODES')

async function selfLine(lane: RawLane, name: string): Promise<SelfLine> {
  let text = ''
  await lane.request(CLUSTER_NODES, 1, (r) => {
    if (r.type === 0x2d) throw new ReplyError(r.line())
    r.bulk()
    text = r.text()
  })
  const line = text.split('\n').find((l) => l.split(' ')[2]?.split(',').includes('myself'))
  if (!line) throw new RedisConnectionError(`${name} gave no account of itself in CLUSTER NODES`)
  const [id, , flags, , , , epoch, , ...slots] = line.trim().split(' ')
  return {id, master: flags.split(',').includes('master'), epoch, slots}
}

const describe = (s: SelfLine) => `${s.id} ${s.master ? 'master' : 'replica'} ${s.epoch} ${s.slots.join(' ')}`

async function holdClusterLanes(cluster: Cluster): Promise<HeldLanes> {
  const masters = clusterMasters(cluster)
  const names = masters.map(nodeName)
  const opened = await Promise.allSettled(masters.map((m) => RawLane.open(m)))
  const lanes = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
  const explain = (error: unknown) => {
    const i = lanes.findIndex((l) => l.failed === error)
    const [host, port] = [masters[i]?.options.host, masters[i]?.options.port]
    return (i !== -1 && host && port && mapRedisError(error, {host, port, tls: Boolean(masters[i].options.tls)})) || error
  }
  const close = () => {
    for (const lane of lanes) lane.close()
  }
  try {
    const failed = opened.findIndex((o) => o.status === 'rejected')
    if (failed !== -1) throw (opened[failed] as PromiseRejectedResult).reason
    const before = await Promise.all(lanes.map((l, i) => selfLine(l, names[i])))
    const owner = slotOwners(before, names)
    const verify = async () => {
      const after = await Promise.all(lanes.map((l, i) => selfLine(l, names[i])))
      const changed = after.findIndex((s, i) => describe(s) !== describe(before[i]))
      if (changed !== -1) {
        throw new RedisConnectionError(
          `the cluster changed while redismp read it (${names[changed]}: slots, role or config epoch; resharding or failover): what was read may be incomplete, run again`,
        )
      }
    }
    return {lanes, names, laneOf: (b, start = 0, end = b.length) => owner[keySlotOf(b, start, end)], verify, explain, close}
  } catch (error) {
    close()
    throw explain(error)
  }
}

/** Which lane owns each slot, from the masters' own accounts; refuses a migration in progress or a slot no master serves. */
function slotOwners(selves: SelfLine[], names: string[]): Int32Array {
  const owner = new Int32Array(SLOTS).fill(-1)
  selves.forEach((s, i) => {
    if (!s.master) throw new RedisConnectionError(`${names[i]} is no longer a master (failover in progress): run again`)
    for (const range of s.slots) {
      if (range.startsWith('[')) {
        throw new RedisConnectionError(
          `slot ${range.slice(1).split('-')[0]} is migrating on ${names[i]} (resharding in progress): a walk cannot be exact until it ends; run again then`,
        )
      }
      const [lo, hi = lo] = range.split('-').map(Number)
      for (let slot = lo; slot <= hi; slot++) owner[slot] = i
    }
  })
  const missing = owner.indexOf(-1)
  if (missing !== -1) {
    const uncovered = owner.reduce((n, o) => n + (o < 0 ? 1 : 0), 0)
    throw new RedisConnectionError(`${uncovered} slots of the cluster (slot ${missing} first) have no reachable master: keys there cannot be read`)
  }
  return owner
}
