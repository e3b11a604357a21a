/**
 * A Redis Cluster with TLS on every link and an ACL user (one cluster for the
 * file): the user, password and TLS settings reach every node, whether the
 * cluster is found from one node or named by seeds, and a wrong password is
 * exit 3 in one line.
 */
import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {useCluster} from '../helpers/redis-cluster.js'

const USER = {name: 'metrics', password: 'cluster-secret'}

describe('a TLS cluster with an ACL user', () => {
  const ctx = useCluster({tls: true, aclUser: USER})

  const tlsEnv = () => {
    const t = ctx.cluster.tlsFiles!
    return {REDIS_SSL: 'true', REDIS_SSL_CA: t.ca, REDIS_SSL_CERT: t.clientCert, REDIS_SSL_KEY: t.clientKey, REDIS_USERNAME: USER.name}
  }

  it('seed, dump and health reach every master through TLS as the ACL user, from one node or from seeds', async () => {
    const oneNode = {...ctx.env, ...tlsEnv(), REDIS_PASSWORD: USER.password}
    const seeded = await runCli(['seed', '--pids', '2', '--series', '30'], oneNode)
    expect({code: seeded.code, stderr: seeded.stderr}).toEqual({code: 0, stderr: ''})
    const dump = await runCli(['dump'], oneNode)
    expect({code: dump.code, stderr: dump.stderr}).toEqual({code: 0, stderr: ''})
    expect(dump.stdout).toMatch(/^# HELP /)
    const seeds = ctx.cluster
      .masters()
      .map((m) => `${m.host}:${m.port}`)
      .join(',')
    const viaSeeds = await runCli(['dump'], {...tlsEnv(), REDIS_PASSWORD: USER.password, REDIS_CLUSTER_NODES: seeds})
    expect(viaSeeds.stdout).toBe(dump.stdout)
    const health = await runCli(['health', '--json'], oneNode)
    expect(health.code).toBe(0)
    const report = JSON.parse(health.stdout)
    expect(report.cluster.state).toBe('ok')
    expect(report.cluster.masters.every((m: {role: string; keys: number}) => m.role === 'master' && m.keys > 0)).toBe(true)
  })

  it('a wrong password is exit 3 with one line, from one node or from seeds', async () => {
    const seeds = ctx.cluster
      .masters()
      .map((m) => `${m.host}:${m.port}`)
      .join(',')
    for (const env of [ctx.env, {REDIS_CLUSTER_NODES: seeds}]) {
      const r = await runCli(['dump'], {...env, ...tlsEnv(), REDIS_PASSWORD: 'not-the-password-42'})
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/^error: authentication failed at .*WRONGPASS/)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).not.toContain('not-the-password-42')
    }
  })
})
