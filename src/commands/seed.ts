import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {ttlFlags} from '../cli/flags.js'
import {type SeedResult, seed} from '../ops/seed.js'
import {renderFields} from '../render/table.js'

export default class Seed extends BaseCommand<typeof Seed> {
  static override summary = 'Write a realistic synthetic dataset to try the other commands on'
  static override description = `Writes a gunicorn-like application's metrics for several workers through the library's RedisValue, so the keys are exactly those the exporter writes: request counters, a latency histogram with buckets, a response-size summary, and a gauge in every multiprocess mode.

Refuses (exit 4) to write into a prefix that already holds keys unless --force.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = ['<%= config.bin %> seed', '<%= config.bin %> seed --pids 8 --series 20 --prefix demo', '<%= config.bin %> seed --ttl-disabled']

  static override flags = {
    ...ttlFlags,
    pids: Flags.integer({description: 'number of worker processes', default: 4, min: 1, max: 10_000}),
    series: Flags.integer({description: 'label combinations of the request counter per worker', default: 10, min: 1, max: 100_000}),
    'pid-base': Flags.integer({description: 'pid of the first worker; the others follow', default: 10_001, min: 1}),
    seed: Flags.integer({description: 'random seed: the same seed writes the same values', default: 1}),
    force: Flags.boolean({description: 'write even if the prefix already holds keys'}),
  }

  async run(): Promise<SeedResult> {
    const {config} = this.loaded
    const result = await seed(await this.redis(), {
      prefix: config.prefix,
      pids: this.flags.pids,
      series: this.flags.series,
      pidBase: this.flags['pid-base'],
      seed: this.flags.seed,
      ttlSeconds: config.ttlSeconds,
      ttlDisabled: config.ttlDisabled,
      force: this.flags.force,
    })
    if (!this.jsonEnabled()) {
      this.log(
        renderFields([
          ['prefix', result.prefix],
          ['pids', result.pids.join(' ')],
          ['families', result.families],
          ['values written', result.values],
          ['keys now', result.keysWritten],
          ['ttl', config.ttlDisabled ? 'disabled' : `${config.ttlSeconds}s`],
        ]),
      )
    }
    return result
  }
}
