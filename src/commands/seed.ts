import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {ttlFlags} from '../cli/flags.js'
import {seed, type SeedResult} from '../ops/seed.js'
import {count} from '../render/human.js'
import {progress} from '../render/progress.js'
import {renderFields} from '../render/table.js'

/** A prefix as one shell word, quoted only when it needs to be. */
const shellWord = (s: string) => (/^[\w:./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)

export default class Seed extends BaseCommand<typeof Seed> {
  static override summary = 'Write a realistic synthetic dataset to try the other commands on'
  static override description = `Writes a gunicorn-like application's metrics for several workers through the library's RedisValue, so the keys are exactly those the exporter writes: request counters, a latency histogram with buckets, a response-size summary, and a gauge in every multiprocess mode.

Refuses (exit 4) to write into a prefix that already holds keys unless --force.

The keys have no TTL unless --ttl-seconds (or REDIS_TTL_SECONDS) asks for one, so the data stays to explore; remove it with redismp flushdb --prefix PREFIX --yes.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> seed',
    '<%= config.bin %> seed --pids 8 --series 20 --prefix demo',
    "<%= config.bin %> seed --ttl-seconds 300   # expire as the exporter's keys do",
  ]

  static override flags = {
    ...ttlFlags,
    pids: Flags.integer({description: 'number of worker processes', default: 4, min: 1, max: 10_000}),
    series: Flags.integer({description: 'label combinations of the request counter per worker', default: 10, min: 1, max: 100_000}),
    'pid-base': Flags.integer({description: 'pid of the first worker; the others follow', default: 10_001, min: 1}),
    seed: Flags.integer({description: 'random seed: the same seed writes the same values', default: 1}),
    force: Flags.boolean({description: 'write even if the prefix already holds keys'}),
  }

  async run(): Promise<SeedResult & {ttlSeconds: number | null}> {
    const {config, sources} = this.loaded
    // Data to explore should not vanish after the exporter's 5 minutes: no TTL unless one was asked for.
    const ttlAsked = sources.ttlSeconds !== 'default' && !config.ttlDisabled
    const meter = progress('seed', process.stderr, 250, 'values')
    const result = await seed(await this.redis(), {
      prefix: config.prefix,
      pids: this.flags.pids,
      series: this.flags.series,
      pidBase: this.flags['pid-base'],
      seed: this.flags.seed,
      ttlSeconds: config.ttlSeconds,
      ttlDisabled: !ttlAsked,
      force: this.flags.force,
      onProgress: (n) => meter.update(n),
    }).finally(() => meter.done())
    if (!this.jsonEnabled()) {
      this.log(
        renderFields([
          ['prefix', result.prefix],
          ['pids', result.pids.join(' ')],
          ['families', result.families],
          ['values written', result.values],
          ['keys now', result.keysWritten],
          ['ttl', ttlAsked ? `${count(config.ttlSeconds)}s` : 'none: the keys stay until removed (--ttl-seconds 300 makes them expire)'],
          ['remove with', `redismp flushdb --prefix ${shellWord(result.prefix)} --yes`],
        ]),
      )
    }
    return {...result, ttlSeconds: ttlAsked ? config.ttlSeconds : null}
  }
}
