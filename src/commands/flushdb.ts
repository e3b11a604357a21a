import {Flags} from '@oclif/core'

import {safeText} from '../render/safe-text.js'
import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {requireConsent} from '../cli/consent.js'
import {ConfigError, RefusedError} from '../errors.js'
import {flushAll, flushPrefix, type FlushResult, planFlush, planFlushAll} from '../ops/flush.js'
import {progress} from '../render/progress.js'
import {describeConnection} from '../redis/connect.js'
import {plural} from '../words.js'

export default class Flushdb extends BaseCommand<typeof Flushdb> {
  static override summary = "Delete this prefix's exporter keys (or, with --all-keys, the whole database)"
  static override description = `Deletes every exporter key under the prefix with SCAN + UNLINK in batches, and nothing else: not other prefixes, not another application's keys under a nested prefix (gunicorn:shadow:…), not keys under the prefix that are not exporter data (names off the schema, or anything but a hash of the exporter's shape at an exporter name, judged by the script that deletes), not other databases. Safe to re-run.

--all-keys runs FLUSHDB on the whole database instead; as the severe action it is, it also needs --confirm with the target as the connection reports it, HOST:PORT/DB (e.g. 127.0.0.1:6379/3): a database number alone could name the same db of another server.

On a terminal it asks first, naming the target; off a terminal it refuses (exit 4) without --yes. --dry-run shows the target, the count and a sample.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> flushdb --dry-run',
    '<%= config.bin %> flushdb --yes',
    '<%= config.bin %> flushdb --all-keys -H 10.0.0.5 -n 3 --confirm 10.0.0.5:6379/3 --yes',
  ]

  static override flags = {
    'dry-run': Flags.boolean({description: 'show what would be deleted; change nothing'}),
    yes: Flags.boolean({char: 'y', description: 'do not ask (required off a terminal)'}),
    'all-keys': Flags.boolean({description: 'FLUSHDB: every key of the database, not only this prefix'}),
    confirm: Flags.string({description: 'with --all-keys: the target, HOST:PORT/DB as the connection reports it (e.g. 127.0.0.1:6379/3)'}),
  }

  async run(): Promise<FlushResult> {
    const {config} = this.loaded
    const {flags} = this
    const allKeys = flags['all-keys']
    if (flags.confirm !== undefined && !allKeys)
      throw new ConfigError(
        '--confirm names the target of --all-keys, and --all-keys was not given: add --all-keys to flush the whole database, or drop --confirm',
      )
    const redis = await this.redis()
    const target = describeConnection(redis, config)
    // HOST:PORT/DB of the server actually reached (through Sentinel: the master it named).
    const confirmAs = target.replace(/^rediss?:\/\//, '').split(' ')[0]
    if (allKeys && flags.confirm !== confirmAs) {
      throw new RefusedError(`--all-keys deletes every key of ${target}, not just prefix "${config.prefix}": name that target with --confirm ${confirmAs}`)
    }
    const meter = progress('flushdb')
    const plan = allKeys
      ? await planFlushAll(redis)
      : await planFlush(redis, {prefix: config.prefix, onProgress: (n) => meter.update(n)}).finally(() => meter.done())
    const scope = allKeys ? `all ${plural(plan.keys, 'key')} of ${target}` : `${plural(plan.keys, 'key')} under prefix "${config.prefix}" on ${target}`
    const result: FlushResult = {...plan, dryRun: Boolean(flags['dry-run']), allKeys, deleted: 0, target, prefix: config.prefix}
    if (!flags['dry-run'] && plan.keys > 0) {
      await requireConsent(`Delete ${scope}?`, flags.yes)
      if (allKeys) result.deleted = await flushAll(redis)
      else {
        const counts = await flushPrefix(redis, config.prefix)
        result.deleted = counts.deleted
        result.notOursKept = counts.notOurs
      }
    }
    if (!this.jsonEnabled()) {
      // What stays under the prefix, only where there is any: three zeros made the line ~150 columns.
      const left = allKeys
        ? []
        : [
            [plan.foreignKept, 'foreign'],
            [result.notOursKept, 'not exporter hashes'],
            [plan.otherPrefixKept, 'under nested prefixes'],
          ].filter(([n]) => n)
      const kept = left.length > 0 ? ` (left alone: ${left.map(([n, what]) => `${n} ${what}`).join(', ')})` : ''
      if (flags['dry-run']) {
        this.log(`flushdb: would delete ${scope}${kept}`)
        for (const k of plan.sample) this.log(`  ${safeText(k)}`)
        if (plan.keys > plan.sample.length) this.log(`  (showing ${plan.sample.length} of ${plan.keys})`)
      } else
        this.log(
          `flushdb: deleted ${plural(result.deleted, 'key')}${allKeys ? ` (FLUSHDB of ${target})` : ` under prefix "${config.prefix}" on ${target}`}${kept}`,
        )
    }
    return result
  }
}
