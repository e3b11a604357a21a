/**
 * health's view of a Redis Cluster: the cluster's own state and slot
 * coverage (CLUSTER INFO), the nodes it marks failed (CLUSTER NODES), and per
 * master its role, round trip, memory and keys — each master asked itself,
 * since a keyless command on the Cluster client reaches one random master.
 */
import {type Cluster, clusterMasters, nodeName} from '../redis/cluster.js'
import {SLOTS} from '../redis/slot.js'

export interface ClusterMasterHealth {
  /** host:port as this client reaches it. */
  address: string
  /** `master`, or what the node says it is now (a demoted master says `slave`). */
  role?: string
  /** One PING's round trip. */
  pingMs?: number
  usedMemory?: number
  maxMemory?: number
  /** DBSIZE: every key the master holds. */
  keys?: number
  /** Keys under the prefix, from the census (absent without one). */
  prefixKeys?: number
  /** Why the master could not be asked. */
  error?: string
}

export interface ClusterHealth {
  /** cluster_state: `ok`, or `fail` when the cluster refuses commands. */
  state?: string
  slotsAssigned?: number
  slotsOk?: number
  slotsPfail?: number
  slotsFail?: number
  knownNodes?: number
  masters: ClusterMasterHealth[]
  /** Nodes the cluster marks failed (`fail`) or suspects (`fail?`), with their role. */
  failedNodes: {address: string; flags: string}[]
}

function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim()
  }
  return out
}

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s))

/** `prefixKeys`: the census's count of keys under the prefix per master address, when it ran. */
export async function clusterHealth(cluster: Cluster, prefixKeys?: Map<string, number>): Promise<ClusterHealth> {
  const report: ClusterHealth = {masters: [], failedNodes: []}
  let asked = false
  for (const node of clusterMasters(cluster)) {
    const address = nodeName(node)
    const m: ClusterMasterHealth = {address, prefixKeys: prefixKeys?.get(address)}
    report.masters.push(m)
    try {
      const start = process.hrtime.bigint()
      await node.ping()
      m.pingMs = Math.round(Number(process.hrtime.bigint() - start) / 1e3) / 1e3
      const info = fields(String(await node.info('replication')) + '\n' + String(await node.info('memory')))
      m.role = info.role
      m.usedMemory = num(info.used_memory)
      m.maxMemory = num(info.maxmemory)
      m.keys = await node.dbsize()
      if (asked) continue
      // The cluster's view, from the first master that answers.
      asked = true
      const state = fields(String(await node.call('CLUSTER', 'INFO')))
      report.state = state.cluster_state
      report.slotsAssigned = num(state.cluster_slots_assigned)
      report.slotsOk = num(state.cluster_slots_ok)
      report.slotsPfail = num(state.cluster_slots_pfail)
      report.slotsFail = num(state.cluster_slots_fail)
      report.knownNodes = num(state.cluster_known_nodes)
      for (const line of String(await node.call('CLUSTER', 'NODES'))
        .trim()
        .split('\n')) {
        const [, addr, flags] = line.split(' ')
        if (/(^|,)fail\??(,|$)/.test(flags)) report.failedNodes.push({address: addr.split('@')[0], flags})
      }
    } catch (error) {
      m.error = String((error as Error)?.message ?? error).split('\n')[0]
    }
  }
  return report
}

/** Problems (the cluster refuses commands) and warnings (a master down, slots not covered) of a cluster report. */
export function assessCluster(c: ClusterHealth, problems: string[], warnings: string[]): void {
  if (c.state === undefined) problems.push('no master of the cluster answered CLUSTER INFO')
  else if (c.state !== 'ok') problems.push(`cluster_state is ${c.state}: the cluster refuses commands until every slot is served`)
  if (c.slotsAssigned !== undefined && c.slotsAssigned < SLOTS) warnings.push(`${SLOTS - c.slotsAssigned} of ${SLOTS} slots are not assigned to any master`)
  const failing = (c.slotsFail ?? 0) + (c.slotsPfail ?? 0)
  if (failing > 0) warnings.push(`${failing} slots are served by a master that is down or suspected down`)
  for (const n of c.failedNodes) {
    warnings.push(`cluster node ${n.address} (${n.flags.replaceAll(/(^|,)(myself|noaddr)(?=,|$)/g, '').replace(/^,/, '')}) is marked down`)
  }
  for (const m of c.masters) {
    if (m.error) warnings.push(`master ${m.address} does not answer: ${m.error}`)
    else if (m.role && m.role !== 'master') warnings.push(`${m.address} is no longer a master (${m.role}): a failover happened; run again`)
    if (m.maxMemory && m.usedMemory !== undefined && m.usedMemory / m.maxMemory > 0.9) {
      warnings.push(`master ${m.address}: memory is ${Math.round((100 * m.usedMemory) / m.maxMemory)}% of maxmemory`)
    }
  }
}
