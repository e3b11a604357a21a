import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {requireConsent} from '../cli/consent.js'
import {RefusedError} from '../errors.js'
import {type FlushResult, flushAll, flushPrefix, planFlush, planFlushAll} from '../ops/flush.js'

export default class Flushdb extends BaseCommand<typeof Flushdb> {
  static override summary = "Delete this prefix's exporter keys (or, with --all-keys, the whole database)"
  static override description = `Deletes every exporter key under the prefix with SCAN + UNLINK in batches, and nothing else: not other prefixes, not another application's keys under a nested prefix (gunicorn:shadow:…), not keys under the prefix that are not exporter data, not other databases. Safe to re-run.

--all-keys runs FLUSHDB on the whole database instead; as the severe action it is, it also needs --confirm with the database number.

On a terminal it asks first; off a terminal it refuses (exit 4) without --yes. --dry-run shows the count and a sample.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> flushdb --dry-run',
    '<%= config.bin %> flushdb --yes',
    '<%= config.bin %> flushdb --all-keys --confirm 3 -n 3 --yes',
  ]

  static override flags = {
    'dry-run': Flags.boolean({description: 'show what would be deleted; change nothing'}),
    yes: Flags.boolean({char: 'y', description: 'do not ask (required off a terminal)'}),
    'all-keys': Flags.boolean({description: 'FLUSHDB: every key of the database, not only this prefix'}),
    confirm: Flags.integer({description: 'with --all-keys: the database number, typed again', min: 0}),
  }

  async run(): Promise<FlushResult> {
    const {config} = this.loaded
    const {flags} = this
    const redis = await this.redis()
    const allKeys = flags['all-keys']
    if (allKeys && flags.confirm !== config.db) {
      throw new RefusedError(`--all-keys deletes every key of database ${config.db}, not just prefix "${config.prefix}": repeat the database number with --confirm ${config.db}`)
    }
    const plan = allKeys ? await planFlushAll(redis) : await planFlush(redis, config.prefix)
    const scope = allKeys ? `all ${plan.keys} keys of db ${config.db}` : `${plan.keys} keys under prefix "${config.prefix}" in db ${config.db}`
    const result: FlushResult = {...plan, dryRun: Boolean(flags['dry-run']), allKeys, deleted: 0}
    if (!flags['dry-run'] && plan.keys > 0) {
      await requireConsent(`Delete ${scope}?`, flags.yes)
      result.deleted = allKeys ? await flushAll(redis) : await flushPrefix(redis, config.prefix)
    }
    if (!this.jsonEnabled()) {
      const kept = allKeys ? '' : ` (left alone: ${plan.foreignKept} foreign, ${plan.otherPrefixKept} under nested prefixes)`
      if (flags['dry-run']) {
        this.log(`flushdb: would delete ${scope}${kept}`)
        for (const k of plan.sample) this.log(`  ${k}`)
      } else this.log(`flushdb: deleted ${result.deleted} keys${allKeys ? ` (FLUSHDB of db ${config.db})` : ` under prefix "${config.prefix}" in db ${config.db}`}${kept}`)
    }
    return result
  }
}
