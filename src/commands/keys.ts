import {once} from 'node:events'

import {Args, Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {modeFlag, pidFlag, typeFlag} from '../cli/choices.js'
import {colorEnabled} from '../cli/color.js'
import {type KeysOptions, type KeysResult, listKeys, streamKeys} from '../ops/keys.js'
import {isLineSafe} from '../render/safe-text.js'
import {renderTable} from '../render/table.js'

export default class Keys extends BaseCommand<typeof Keys> {
  static override summary = 'List the keys under the prefix with their parts'
  static override description = `SCANs (never KEYS) the keys under the prefix and shows each one's type, gauge mode, pid, kind (metric or meta), hash and TTL. Keys under the prefix that are not exporter data are listed as "foreign"; other applications' keys under a nested prefix (e.g. gunicorn:shadow:…) are left out.

PATTERN is a glob for the part after "{prefix}:" (the prefix is always matched literally).
Output is a table on a terminal and one key per line when piped, so it composes with wc and xargs. A key whose name holds a control character, whitespace, a quote or a backslash is left out of the lines (and counted in one warning on stderr), so that "keys | xargs redis-cli del" can only ever name whole keys under the prefix; tables show such names escaped (\\x1b, \\n).

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> keys',
    "<%= config.bin %> keys 'counter:*'",
    '<%= config.bin %> keys --pid 12345 --kind metric --resolve',
    '<%= config.bin %> keys --type gauge --mode livesum | wc -l',
  ]

  static override args = {pattern: Args.string({description: 'glob after "{prefix}:"', required: false})}

  static override flags = {
    type: typeFlag(),
    mode: modeFlag(),
    pid: pidFlag,
    kind: Flags.option({options: ['metric', 'meta'] as const, description: 'only metric or only meta keys'})(),
    limit: Flags.integer({description: 'stop after this many keys', min: 1}),
    resolve: Flags.boolean({description: 'add the metric and sample name from each meta key'}),
    format: Flags.option({options: ['table', 'lines'] as const, description: 'table, or one key per line [default: table on a terminal, lines when piped]'})(),
  }

  async run(): Promise<KeysResult | {count: number; truncated: boolean; otherPrefixSkipped: number}> {
    const {flags} = this
    const options: KeysOptions = {
      prefix: this.loaded.config.prefix,
      pattern: this.args.pattern,
      type: flags.type,
      mode: flags.mode,
      pid: flags.pid,
      kind: flags.kind,
      limit: flags.limit,
      resolve: flags.resolve,
    }
    const redis = await this.redis()
    const format = flags.format ?? (process.stdout.isTTY ? 'table' : 'lines')
    if (format === 'lines' && !this.jsonEnabled()) {
      // A pipe gets keys as they are found: memory stays at one batch, and `| head` gets them at once.
      let unsafe = 0
      const done = await streamKeys(redis, options, (rows) => {
        let text = ''
        for (const r of rows) {
          if (isLineSafe(r.key)) text += r.key + '\n'
          else unsafe++
        }
        return text ? writeOut(text) : Promise.resolve()
      })
      if (unsafe > 0) this.note(`left out ${unsafe} keys whose names hold control characters, whitespace, quotes or backslashes: one key per line cannot carry them safely (--json or --format table shows them)`)
      if (done.truncated) this.note(`stopped at --limit ${flags.limit}`)
      return done
    }
    const result = await listKeys(redis, options)
    if (!this.jsonEnabled()) {
      const head = ['key', 'type', 'mode', 'pid', 'kind', 'ttl', ...(flags.resolve ? ['metric', 'sample'] : [])]
      const rows = result.keys.map((k) => [
        k.key,
        k.artifact ? 'gauge (artifact)' : k.type,
        k.mode,
        k.pid,
        k.kind,
        k.ttl === null ? 'none' : `${k.ttl}s`,
        ...(flags.resolve ? [k.metric, k.sample] : []),
      ])
      if (rows.length === 0) this.note(`no keys under prefix "${this.loaded.config.prefix}" match`)
      else this.log(renderTable(head, rows, {color: colorEnabled(process.stdout)}))
      if (result.truncated) this.note(`stopped at --limit ${flags.limit}`)
    }
    return result
  }
}

/** Writes to stdout, waiting while a slow reader (a pipe) catches up. */
async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}
