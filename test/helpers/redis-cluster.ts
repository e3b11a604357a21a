/**
 * Throwaway Redis Clusters for tests: `redis-server --cluster-enabled yes`
 * nodes on free ports (each in its own temp dir, no persistence), joined by
 * `redis-cli --cluster create`, and stopped by exactly the handle that started
 * them. Every change the harness makes (create, failover, slot migration)
 * returns only once every live node agrees on the new layout, so a test never
 * races the cluster's gossip.
 */
import {type ChildProcess, execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Cluster, type ClusterOptions, Redis} from 'ioredis'
import {afterAll, beforeAll} from 'vitest'

import {makeCa, type RedisServerOptions, serverArgs, spawnRedisServer, stopProcess, tlsClientOptions, type TlsFiles, waitReady} from './redis-server.js'

export interface StartClusterOptions {
  masters?: number
  replicasPerMaster?: number
  /** requirepass (and masterauth) for the default user on every node. */
  password?: string
  /** An extra ACL user with full access on every node; the harness itself connects as this user. */
  aclUser?: {name: string; password: string}
  /** TLS only, on client, replication and cluster-bus links, with certificates from one throwaway CA. */
  tls?: boolean
  /**
   * cluster-node-timeout: how long a silent node takes to be suspected. Failover
   * takes about twice this; much shorter risks failovers a loaded machine did not mean.
   */
  nodeTimeoutMs?: number
  extraArgs?: string[]
}

export interface ClusterNode {
  host: string
  port: number
  /** The node id the cluster knows it by (CLUSTER MYID). */
  id: string
  role: 'master' | 'replica'
  /** The slot range this node serves or replicates, as an index into masters(); kept across failover. */
  shard: number
  /** False once killMaster killed it. */
  alive: boolean
  dir: string
  proc: ChildProcess
}

export type MigrationStep =
  | {step: 'importing'} // the target accepts the slot's keys (SETSLOT IMPORTING)
  | {step: 'migrating'} // the source answers -ASK for the slot's keys it no longer has (SETSLOT MIGRATING)
  | {step: 'keys'; moved: string[]} // one batch of the slot's keys went over (MIGRATE)
  | {step: 'assigned'} // the target owns the slot (SETSLOT NODE on every master)

export interface MigrateOptions {
  /** Keys per MIGRATE; smaller gives more 'keys' steps. */
  batch?: number
  /** Runs after each step, before the next starts, while the slot is in that state. */
  onStep?: (step: MigrationStep) => void | Promise<void>
}

export interface RedisCluster {
  /** Every node started, live or killed; roles and shards are as of the harness's last change. */
  readonly nodes: readonly ClusterNode[]
  tlsFiles?: TlsFiles
  /** The live masters, masters()[i] serving shard i. */
  masters(): ClusterNode[]
  /** The live master that owns `slot`, by that master's own account. */
  slotOwner(slot: number): Promise<ClusterNode>
  /** An ioredis Cluster for test setup and assertions (not for the code under test); the caller closes it. */
  client(options?: ClusterOptions): Promise<Cluster>
  /** A plain connection to one node; the caller closes it. */
  nodeClient(node: ClusterNode): Promise<Redis>
  /** Environment for a redismp process pointed at one live master (as a user would point it at any node). */
  env(extra?: Record<string, string>): Record<string, string>
  /** SIGKILLs masters()[i] once its replicas hold all its writes, and waits until a replica has taken over. */
  killMaster(i: number): Promise<{killed: ClusterNode; promoted: ClusterNode}>
  /** Moves `slot` with its keys to masters()[toMaster], step by step, as redis-cli --cluster reshard does. */
  migrateSlot(slot: number, toMaster: number, options?: MigrateOptions): Promise<void>
  /** Stops every process it started and removes their dirs. */
  stop(): Promise<void>
}

const HOST = '127.0.0.1'
const SLOTS = 16_384
/** A node's cluster bus listens on its port + 10000. */
const BUS_OFFSET = 10_000
/**
 * Ports are drawn below the kernel's ephemeral range (32768+ here) with their
 * bus port too, so neither collides with freePort()'s picks or outgoing sockets.
 */
const PORT_LOW = 10_000
const PORT_HIGH = 32_767 - BUS_OFFSET
/** Generous: a 2-core machine under a full test run makes gossip and failover slow. */
const SETTLE_MS = 90_000
/** Bound of one WAIT for replicas or one MIGRATE batch. */
const WAIT_MS = 30_000

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, HOST, () => srv.close(() => resolve(true)))
  })
}

/** A port whose bus port is free too; `taken` holds ports this cluster already chose. */
async function freePortPair(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW))
    if (taken.has(port) || taken.has(port + BUS_OFFSET)) continue
    if ((await portIsFree(port)) && (await portIsFree(port + BUS_OFFSET))) return port
  }
  throw new Error('no free port pair (port, port+10000) found')
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `check` until it returns true; on the deadline fails with the last thing it said was wrong. */
async function waitUntil(what: string, check: () => Promise<true | string>, timeoutMs = SETTLE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    try {
      const verdict = await check()
      if (verdict === true) return
      last = verdict
    } catch (error) {
      last = String(error)
    }
    if (Date.now() > deadline) throw new Error(`cluster: ${what} not reached within ${timeoutMs / 1000}s; last: ${last}`)
    await sleep(150)
  }
}

/** One line of CLUSTER NODES. */
interface NodeLine {
  id: string
  port: number
  flags: Set<string>
  masterId: string | undefined
  /** Slots owned, without the [slot->-id] / [slot-<-id] migration markers. */
  slots: Set<number>
  migrating: boolean
}

function parseClusterNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, master, , , , , ...ranges] = line.trim().split(' ')
      const slots = new Set<number>()
      let migrating = false
      for (const r of ranges) {
        if (r.startsWith('[')) {
          migrating = true
          continue
        }
        const [lo, hi = lo] = r.split('-').map(Number)
        for (let s = lo; s <= hi; s++) slots.add(s)
      }
      // addr is ip:port@cport[,hostname]
      const port = Number(addr.split('@')[0].split(':').pop())
      return {id, port, flags: new Set(flags.split(',')), masterId: master === '-' ? undefined : master, slots, migrating}
    })
}

const sameSet = <T>(a: Set<T>, b: Set<T>) => a.size === b.size && [...a].every((x) => b.has(x))

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

export async function startCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3
  const replicasPerMaster = options.replicasPerMaster ?? 1
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 3000
  const root = mkdtempSync(join(tmpdir(), 'redismp-cluster-'))
  const tlsFiles = options.tls ? makeCa(root) : undefined
  // The harness speaks as the ACL user when there is one, so that user is proven on every node.
  const auth = options.aclUser ? {username: options.aclUser.name, password: options.aclUser.password} : {username: undefined, password: options.password}
  const cliAuth = [
    ...(auth.username ? ['--user', auth.username] : []),
    ...(auth.password ? ['-a', auth.password, '--no-auth-warning'] : []),
    ...(tlsFiles ? ['--tls', '--cacert', tlsFiles.ca, '--cert', tlsFiles.clientCert, '--key', tlsFiles.clientKey] : []),
  ]

  const nodes: ClusterNode[] = []
  const admin = new Map<ClusterNode, Redis>()
  let stopped = false

  const connect = async (port: number, commandTimeout?: number) => {
    const c = new Redis({
      host: HOST,
      port,
      username: auth.username,
      password: auth.password,
      tls: tlsFiles ? tlsClientOptions(tlsFiles) : undefined,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      commandTimeout,
    })
    c.on('error', () => undefined)
    await c.connect()
    return c
  }

  /** The harness's own connection to a node, kept for polling; bounded, so a stuck node cannot outlast a deadline. */
  const adminOf = async (node: ClusterNode) => {
    const known = admin.get(node)
    if (known && known.status === 'ready') return known
    known?.disconnect()
    const c = await connect(node.port, WAIT_MS + 10_000)
    admin.set(node, c)
    return c
  }

  const taken = new Set<number>()
  const startNode = async (): Promise<ClusterNode> => {
    // Another process may take the port between the check and the bind: then try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePortPair(taken)
      taken.add(port).add(port + BUS_OFFSET)
      const dir = mkdtempSync(join(root, `node-${port}-`))
      const serverOptions: RedisServerOptions = {password: options.password, aclUser: options.aclUser, tls: options.tls}
      const args = [
        ...serverArgs(dir, port, serverOptions, tlsFiles),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        // A replica takes over however long it lost its master, and none wanders to another master:
        // the layout stays what the test set up.
        '--cluster-replica-validity-factor',
        '0',
        '--cluster-allow-replica-migration',
        'no',
        ...(options.password ? ['--masterauth', options.password] : []),
        ...(tlsFiles ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : []),
        ...(options.extraArgs ?? []),
      ]
      const proc = spawnRedisServer(args)
      try {
        await waitReady(proc, () => connect(port))
        const c = await connect(port)
        const id = (await c.call('CLUSTER', 'MYID')) as string
        c.disconnect()
        return {host: HOST, port, id, role: 'master', shard: -1, alive: true, dir, proc}
      } catch (error) {
        await stopProcess(proc, dir)
        if (attempt >= 5) throw error
      }
    }
  }

  const live = () => nodes.filter((n) => n.alive)

  /**
   * Reads every live node's own account of itself (role, master, slots) and checks
   * that every live node's view agrees with all of them, that killed nodes are
   * marked failed everywhere, that every slot is served, that replication links
   * are up and that cluster_state is ok everywhere. On agreement, updates `nodes`.
   */
  const converged = async (): Promise<true | string> => {
    const views = new Map<ClusterNode, NodeLine[]>()
    for (const node of live()) {
      const c = await adminOf(node)
      const info = (await c.call('CLUSTER', 'INFO')) as string
      if (infoField(info, 'cluster_state') !== 'ok') return `${node.port}: cluster_state is ${infoField(info, 'cluster_state')}`
      views.set(node, parseClusterNodes((await c.call('CLUSTER', 'NODES')) as string))
    }
    const selves = new Map<ClusterNode, NodeLine>()
    for (const [node, view] of views) {
      const self = view.find((l) => l.flags.has('myself'))
      if (!self) return `${node.port}: no myself line`
      if (self.migrating) return `${node.port}: a slot is still migrating`
      selves.set(node, self)
    }
    const owners = new Map<number, string>()
    for (const self of selves.values()) {
      for (const s of self.slots) {
        if (owners.has(s)) return `slot ${s} claimed twice`
        owners.set(s, self.id)
      }
    }
    if (owners.size !== SLOTS) return `${SLOTS - owners.size} slots unserved`
    for (const [node, view] of views) {
      for (const [other, self] of selves) {
        const seen = view.find((l) => l.id === self.id)
        if (!seen) return `${node.port} does not know ${other.port}`
        const bad = ['handshake', 'fail?', 'fail', 'noaddr'].find((f) => seen.flags.has(f))
        if (bad) return `${node.port} sees ${other.port} as ${bad}`
        if (seen.flags.has('master') !== self.flags.has('master')) return `${node.port} has ${other.port}'s role wrong`
        if (seen.masterId !== self.masterId) return `${node.port} has ${other.port}'s master wrong`
        if (!sameSet(seen.slots, self.slots)) return `${node.port} has ${other.port}'s slots wrong`
      }
      for (const dead of nodes.filter((n) => !n.alive)) {
        const seen = view.find((l) => l.id === dead.id)
        if (seen && !seen.flags.has('fail')) return `${node.port} does not yet see killed ${dead.port} as failed`
      }
    }
    for (const [node, self] of selves) {
      if (self.flags.has('master')) continue
      const repl = (await (await adminOf(node)).info('replication')) as string
      if (infoField(repl, 'master_link_status') !== 'up') return `replica ${node.port}: master link ${infoField(repl, 'master_link_status')}`
    }

    // Agreed: record it. A master keeps its shard; a replica serves its master's.
    const byId = new Map(live().map((n) => [n.id, n]))
    for (const [node, self] of selves) node.role = self.flags.has('master') ? 'master' : 'replica'
    const masters = live().filter((n) => n.role === 'master')
    if (masters.some((m) => m.shard < 0)) {
      // First layout: shards in slot order.
      const lowest = (m: ClusterNode) => Math.min(...selves.get(m)!.slots)
      masters.sort((a, b) => lowest(a) - lowest(b)).forEach((m, i) => (m.shard = i))
    }
    for (const [node, self] of selves) if (self.masterId) node.shard = byId.get(self.masterId)?.shard ?? -1
    return true
  }

  const ownerOf = async (slot: number): Promise<ClusterNode> => {
    for (const m of live().filter((n) => n.role === 'master')) {
      const self = parseClusterNodes((await (await adminOf(m)).call('CLUSTER', 'NODES')) as string).find((l) => l.flags.has('myself'))
      if (self?.slots.has(slot)) return m
    }
    throw new Error(`no live master owns slot ${slot}`)
  }

  const cluster: RedisCluster = {
    nodes,
    tlsFiles,
    masters: () =>
      live()
        .filter((n) => n.role === 'master')
        .sort((a, b) => a.shard - b.shard),
    slotOwner: (slot) => ownerOf(slot),
    async client(extra = {}) {
      const c = new Cluster(
        live().map((n) => ({host: n.host, port: n.port})),
        {
          lazyConnect: true,
          ...extra,
          redisOptions: {username: auth.username, password: auth.password, tls: tlsFiles ? tlsClientOptions(tlsFiles) : undefined, ...extra.redisOptions},
        },
      )
      c.on('error', () => undefined)
      await c.connect()
      return c
    },
    nodeClient: (node) => connect(node.port),
    env(extra = {}) {
      const [m] = cluster.masters()
      return {REDIS_HOST: m.host, REDIS_PORT: String(m.port), REDIS_TTL_SECONDS: '300', ...extra}
    },

    async killMaster(i) {
      const killed = cluster.masters()[i]
      if (!killed) throw new Error(`no master ${i}`)
      const replicas = live().filter((n) => n.role === 'replica' && n.shard === killed.shard)
      if (replicas.length === 0) throw new Error(`master ${i} has no replica to take over`)
      // Acknowledged writes must survive the kill, or a test would blame the code under test for lost data.
      const acked = (await (await adminOf(killed)).call('WAIT', String(replicas.length), String(WAIT_MS))) as number
      if (acked < replicas.length) throw new Error(`only ${acked} of ${replicas.length} replicas caught up with master ${killed.port}`)
      admin.get(killed)?.disconnect()
      admin.delete(killed)
      const exited = new Promise((r) => killed.proc.once('exit', r))
      killed.proc.kill('SIGKILL')
      await exited
      killed.alive = false
      await stopProcess(killed.proc, killed.dir)
      await waitUntil(`failover of ${killed.port}`, async () => {
        const verdict = await converged()
        if (verdict !== true) return verdict
        return replicas.some((r) => r.role === 'master') || `no replica of ${killed.port} promoted`
      })
      return {killed, promoted: replicas.find((r) => r.role === 'master')!}
    },

    async migrateSlot(slot, toMaster, {batch = 100, onStep = () => undefined} = {}) {
      const to = cluster.masters()[toMaster]
      if (!to) throw new Error(`no master ${toMaster}`)
      const from = await ownerOf(slot)
      if (from === to) throw new Error(`slot ${slot} is on master ${toMaster} already`)
      const src = await adminOf(from)
      const dst = await adminOf(to)
      // The order redis-cli --cluster reshard uses: IMPORTING first, so the
      // target accepts ASKING clients before the source starts sending them there.
      await dst.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id)
      await onStep({step: 'importing'})
      await src.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id)
      await onStep({step: 'migrating'})
      const migrateAuth = auth.username ? ['AUTH2', auth.username, auth.password!] : auth.password ? ['AUTH', auth.password] : []
      for (;;) {
        const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', String(slot), String(batch))) as string[]
        if (keys.length === 0) break
        await src.call('MIGRATE', to.host, String(to.port), '', '0', String(WAIT_MS), ...migrateAuth, 'KEYS', ...keys)
        await onStep({step: 'keys', moved: keys})
      }
      // The target first, so the source never hands the slot to a node that would refuse it.
      for (const m of [to, from, ...cluster.masters().filter((n) => n !== to && n !== from)]) {
        await (await adminOf(m)).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
      }
      await onStep({step: 'assigned'})
      await waitUntil(`slot ${slot} on ${to.port}`, async () => {
        const verdict = await converged()
        if (verdict !== true) return verdict
        return (await ownerOf(slot)) === to || `slot ${slot} not yet on ${to.port}`
      })
    },

    async stop() {
      if (stopped) return
      stopped = true
      for (const c of admin.values()) c.disconnect()
      admin.clear()
      await Promise.all(nodes.map((n) => stopProcess(n.proc, n.dir)))
      for (const n of nodes) n.alive = false
      rmSync(root, {recursive: true, force: true})
    },
  }

  try {
    const total = masterCount * (1 + replicasPerMaster)
    const started = await Promise.allSettled(Array.from({length: total}, startNode))
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value)
    const failed = started.find((s) => s.status === 'rejected')
    if (failed) throw failed.reason
    await redisCli(cliAuth, [
      '--cluster',
      'create',
      ...nodes.map((n) => `${n.host}:${n.port}`),
      '--cluster-replicas',
      String(replicasPerMaster),
      '--cluster-yes',
    ])
    await waitUntil('a settled cluster after create', converged)
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

/** Runs redis-cli; rejects with its output when it fails. */
function redisCli(auth: string[], args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...auth, ...args], {timeout: SETTLE_MS}, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

export interface ClusterContext {
  cluster: RedisCluster
  /** An ioredis Cluster for setup and assertions. */
  redis: Cluster
  /** REDIS_HOST and REDIS_PORT of one master, for CLI runs. */
  env: Record<string, string>
}

/** A cluster of its own for the enclosing describe block, started before its tests and stopped after. */
export function useCluster(options: StartClusterOptions = {}): ClusterContext {
  const ctx = {} as ClusterContext
  beforeAll(async () => {
    ctx.cluster = await startCluster(options)
    ctx.redis = await ctx.cluster.client()
    ctx.env = ctx.cluster.env()
  }, SETTLE_MS + 30_000)
  afterAll(async () => {
    ctx.redis?.disconnect()
    await ctx.cluster?.stop()
  })
  return ctx
}
