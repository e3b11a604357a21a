import {readFileSync} from 'node:fs'

import {Flags} from '@oclif/core'

import {safeText} from '../render/safe-text.js'
import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {requireConsent} from '../cli/consent.js'
import {ttlFlags} from '../cli/flags.js'
import {choosesSomething, pruneChoiceFlags, pruneChoices} from '../cli/prune-flags.js'
import {ConfigError} from '../errors.js'
import {plannedKeys, prune, type PruneOptions, type PruneResult, type PruneTarget, summarizePrune, takePruneLock} from '../ops/prune/prune.js'
import {describeConnection} from '../redis/connect.js'
import {progress} from '../render/progress.js'
import type {Lease} from '../ops/prune/lock.js'

export default class Prune extends BaseCommand<typeof Prune> {
  static override summary = 'Remove dead workers\u2019 live gauges and other stale data, safely, for cron'
  static override description = `By default prune does what prometheus_client's mark_process_dead does: for dead workers it deletes their live* gauges (livesum, liveall, livemax, livemin, livemostrecent) and the exporter's bare-gauge twins, and keeps their counters, histograms, summaries and other gauges, so totals never go backwards.

A worker is dead when named (--pid, --pids-from), with --local when its pid does not run on this host (only for a Redis no other host writes to), or with --stale when its newest write is older than that.

Opt-in: --orphans (a metric without its meta or a meta without its metric, older than --orphan-grace), --artifacts (every bare-gauge twin), --older-than (every series not written for that long, counters included: totals drop), --fix-ttl (give keys without a TTL the configured one).

Each decision is judged again on the server as it is carried out, against a mark: a dead worker's key goes only if written no later than the newest write prune saw of that worker when it judged it dead, so anything a worker writes after the judgement is kept. Only hashes of the exporter's shape are deleted or given a TTL; a string, list or other hash at an exporter name is left alone and counted (a meta's name only where its series goes, unless --orphans or --fix-ttl reads every meta). Two prunes never run at once (a lock with an expiry; a lock left by a prune of this host that no longer runs, or one without an expiry, is taken over with a warning). It works on a full server (maxmemory reached). Interrupted, the store stays consistent and a re-run finishes the job.

The question on a terminal, the dry run and the summary name the server, db and prefix. --dry-run shows 10 keys of the plan (and how many there are); --dry-run --json lists every planned key with its reason.

Exit 0 whether or not anything was pruned (the summary line says which).

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> prune --stale 10m --yes',
    '<%= config.bin %> prune --pid 12345 --pid 12346 --dry-run',
    "<%= config.bin %> prune --stale 10m --dry-run --json | jq -r '.plan[].key'",
    '<%= config.bin %> prune --local --orphans --artifacts --yes --json',
    '<%= config.bin %> prune --fix-ttl --ttl-seconds 600 --yes',
  ]

  static override flags = {
    ...ttlFlags,
    pid: Flags.integer({description: 'a dead worker (repeatable)', multiple: true, min: 1}),
    'pids-from': Flags.string({description: 'file with one dead pid per line (- for stdin)'}),
    ...pruneChoiceFlags,
    'dry-run': Flags.boolean({description: 'show the plan; change nothing'}),
    yes: Flags.boolean({char: 'y', description: 'do not ask (required off a terminal)'}),
  }

  private lease?: Lease

  async run(): Promise<PruneResult & PruneTarget> {
    const {flags} = this
    const {config} = this.loaded
    const choices = pruneChoices(flags, config, [...(flags.pid ?? []), ...this.pidsFromFile()])
    if (!choosesSomething(choices)) {
      throw new ConfigError(
        'nothing to prune: name dead workers (--pid, --pids-from, --local, --stale) or choose --orphans, --artifacts, --older-than or --fix-ttl',
      )
    }
    const options: PruneOptions = choices
    if (options.olderThanMs !== undefined) this.note('--older-than deletes counters and histograms too: their totals will drop')
    if (flags['fix-ttl'] && config.ttlDisabled) this.note('REDIS_TTL_DISABLED is set: the exporter will write keys without TTL again')

    const redis = await this.redis()
    const where: PruneTarget = {target: describeConnection(redis, config), prefix: config.prefix}
    const meter = progress('prune')
    options.onProgress = (n) => meter.update(n)
    let result: PruneResult
    if (flags['dry-run']) result = await prune(redis, {...options, dryRun: true, listPlan: this.jsonEnabled()}).finally(() => meter.done())
    else {
      if (!flags.yes) {
        // What the question shows; the run itself judges liveness again, under the lock.
        const plan = await prune(redis, {...options, dryRun: true}).finally(() => meter.done())
        await requireConsent(`${summarizePrune(plan, where)}. Go ahead?`, false)
      }
      this.lease = await takePruneLock(redis, config.prefix)
      if (this.lease.tookOver) this.note(this.lease.tookOver)
      this.onInterrupt = () => this.lease!.release()
      try {
        result = await prune(redis, options)
      } finally {
        meter.done()
        await this.lease.release().catch(() => undefined)
      }
    }

    if (result.pidsWithoutKeys.length > 0) {
      const pids = result.pidsWithoutKeys
      this.note(
        `${pids.length === 1 ? 'pid' : 'pids'} ${pids.join(', ')} ${pids.length === 1 ? 'has' : 'have'} no keys under prefix "${config.prefix}" on ${where.target}: nothing of ${pids.length === 1 ? 'it' : 'them'} to prune (redismp pids lists the pids there are)`,
      )
    }
    if (!this.jsonEnabled()) {
      this.log(summarizePrune(result, where))
      if (flags['dry-run']) {
        for (const s of result.sample) this.log(`  ${s.reason.padEnd(16)} ${safeText(s.key)}`)
        const total = plannedKeys(result)
        if (total > result.sample.length) this.log(`  (showing ${result.sample.length} of ${total}; --json lists them all)`)
      }
    }
    return {...where, ...result}
  }

  private pidsFromFile(): number[] {
    const file = this.flags['pids-from']
    if (!file) return []
    let text: string
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8')
    } catch (error) {
      throw new ConfigError(`--pids-from: cannot read "${file}": ${(error as NodeJS.ErrnoException).code ?? error}`)
    }
    return text.split('\n').flatMap((line, i) => {
      const t = line.replace(/#.*/, '').trim()
      if (t === '') return []
      if (!/^[1-9]\d{0,9}$/.test(t)) throw new ConfigError(`--pids-from: line ${i + 1} of "${file}" is not a pid: "${t}"`)
      return [Number(t)]
    })
  }
}
