import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {CheckFailedError} from '../errors.js'
import {describeConnection} from '../redis/connect.js'
import type {ClusterHealth} from '../ops/cluster-health.js'
import {health, type HealthReport} from '../ops/health.js'
import {plural} from '../render/human.js'
import {progress} from '../render/progress.js'
import {formatBytes, renderFields} from '../render/table.js'

export default class Health extends BaseCommand<typeof Health> {
  static override summary = 'Check that the metrics store is reachable, writable and sane'
  static override description = `Pings Redis (several samples), writes, reads and deletes a probe key under the prefix, reads the server version, role, memory and eviction policy, and summarises the keys under the prefix.

Exit 0 when healthy; 6 with the reason when not (a replica, a failed write). Warnings (keys without TTL, an eviction policy that can drop metric keys, foreign keys) keep exit 0 unless --strict. Use it as a cron or Kubernetes probe.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> health',
    '<%= config.bin %> health --strict --json',
    {description: 'A liveness probe that stays fast on millions of keys:', command: '<%= config.bin %> health --no-keyspace --pings 1'},
    '$ REDIS_URL=rediss://redis.internal:6380/0 <%= config.bin %> health',
  ]

  static override flags = {
    strict: Flags.boolean({description: 'treat warnings as failures (exit 6)'}),
    pings: Flags.integer({description: 'PING samples for the round-trip figures', default: 5, min: 1, max: 1000}),
    keyspace: Flags.boolean({
      description: 'count the keys under the prefix (a SCAN of all of them); --no-keyspace for a fast liveness probe',
      default: true,
      allowNo: true,
    }),
  }

  async run(): Promise<HealthReport> {
    const {config} = this.loaded
    const redis = await this.redis()
    const meter = progress('health: counting keys')
    const report = await health(redis, {
      onProgress: (n) => meter.update(n),
      prefix: config.prefix,
      endpoint: describeConnection(redis, config),
      pingSamples: this.flags.pings,
      ttlDisabled: config.ttlDisabled,
      census: this.flags.keyspace,
    }).finally(() => meter.done())
    // The status line says what the exit code will say: --strict fails on warnings.
    const strictFailure = this.flags.strict && report.healthy && report.warnings.length > 0
    if (!this.jsonEnabled()) this.log(this.render(report, strictFailure))
    for (const w of report.warnings) this.note(w)
    if (!report.healthy) this.failWithData(new CheckFailedError(`unhealthy: ${report.problems.join('; ')}`), report)
    if (this.flags.strict && report.warnings.length > 0) {
      this.failWithData(new CheckFailedError(`${plural(report.warnings.length, 'warning')} and --strict: ${report.warnings[0]}`), report)
    }
    return report
  }

  private render(r: HealthReport, strictFailure: boolean): string {
    const k = r.keyspace
    const s = r.server
    const census: [string, string | number][] = k
      ? [
          ['metric keys', k.metricKeys],
          ['meta keys', k.metaKeys],
          ['pids', k.pids],
          ['without TTL', k.keysWithoutTtl],
          ['artifacts', `${k.artifacts} (bare gauge init twins, never aggregated)`],
          ['foreign keys', k.foreignKeys],
          ['other prefixes', `${k.otherPrefixKeys} (another application's keys under ${r.prefix}:…, left alone)`],
        ]
      : [['keys', 'not counted (--no-keyspace)']]
    return renderFields([
      ['status', r.healthy ? (strictFailure ? `FAILED --strict: healthy, but ${plural(r.warnings.length, 'warning')}` : 'healthy') : 'UNHEALTHY'],
      ['endpoint', r.endpoint],
      ['server', `redis ${s.version ?? '?'} (${s.mode ?? '?'}, ${s.role ?? '?'})`],
      [
        'ping',
        `min ${r.ping.minMs} ms, median ${r.ping.medianMs} ms, max ${r.ping.maxMs} ms (${plural(r.ping.samples, 'sample')}${r.ping.command === 'PING' ? '' : `, timed with ${r.ping.command}: PING is not permitted`})`,
      ],
      ['write probe', r.probe.ok ? 'ok' : `FAILED: ${r.probe.error}`],
      ['memory', `${formatBytes(s.usedMemory)} used of ${s.maxMemory ? formatBytes(s.maxMemory) : 'no limit'}, policy ${s.evictionPolicy ?? '?'}`],
      ['prefix', r.prefix],
      ...census,
      ...(r.cluster ? clusterRows(r.cluster) : []),
    ])
  }
}

/** A cluster's state and one row per master. */
function clusterRows(c: ClusterHealth): [string, string | number][] {
  const slots = `${c.slotsAssigned ?? '?'} of 16384 slots assigned, ${c.slotsOk ?? '?'} ok, ${c.slotsPfail ?? 0} pfail, ${c.slotsFail ?? 0} fail`
  return [
    ['cluster', `state ${c.state ?? '?'}, ${slots}, ${c.knownNodes ?? '?'} nodes`],
    ...c.masters.map((m): [string, string] => [
      `master ${m.address}`,
      m.error
        ? `DOES NOT ANSWER: ${m.error}`
        : `${m.role ?? '?'}, ping ${m.pingMs} ms, ${formatBytes(m.usedMemory)} used of ${m.maxMemory ? formatBytes(m.maxMemory) : 'no limit'}, ${m.keys ?? '?'} keys${m.prefixKeys === undefined ? '' : ` (${m.prefixKeys} under the prefix)`}`,
    ]),
  ]
}
