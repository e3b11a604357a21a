import {once} from 'node:events'

import {Args, Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {modeFlag, pidFlag, typeFlag} from '../cli/choices.js'
import {colorEnabled} from '../cli/color.js'
import {chooseOutput, formatFlag, wideFlag} from '../cli/output.js'
import {type KeyRow, type KeysOptions, type KeysResult, listKeys, streamKeyNames, streamKeys} from '../ops/keys.js'
import {count, duration, plural} from '../render/human.js'
import {progress} from '../render/progress.js'
import {isLineSafe} from '../render/safe-text.js'
import {type Cell, type Column, renderTable, tsvLine} from '../render/table.js'

const TTY_LIMIT = 1000
const KEYS_FORMATS = ['table', 'wide', 'lines', 'tsv', 'json'] as const

const KEY_COLUMNS: Column[] = [
  {head: 'key', shrink: true},
  {head: 'type'},
  {head: 'pid', align: 'right'},
  {head: 'kind'},
  {head: 'ttl', align: 'right'},
  {head: 'metric', shrink: true},
  {head: 'sample', shrink: true},
]

export default class Keys extends BaseCommand<typeof Keys> {
  static override summary = 'List the keys under the prefix with their parts'
  static override description = `SCANs (never KEYS) the keys under the prefix and shows each one's type, gauge mode, pid, kind (metric or meta), hash and TTL. Keys under the prefix that are not exporter data are listed as "foreign"; other applications' keys under a nested prefix (e.g. gunicorn:shadow:…) are left out.

PATTERN is a glob for the part after "{prefix}:" (the prefix is always matched literally): 'counter:*', not 'gunicorn:counter:*'.
Output is a table on a terminal (the first 1,000 keys unless --limit says otherwise, shortened to fit; -o wide for every column in full) and one key per line when piped (tab-separated columns with --resolve or -o tsv), so it composes with wc and xargs. A key whose name holds a control character, whitespace, a quote or a backslash is left out of the lines (and counted in one warning on stderr), so that "keys | xargs redis-cli del" can only ever name whole keys under the prefix; tables show such names escaped (\\x1b, \\n).
One key per line asks Redis for nothing but SCAN, which leaves out keys already expired: a key that expires or is deleted while the listing runs can still be listed, as it could be deleted just after being printed. The table, -o tsv, --resolve and --json read each key's TTL too (and leave out keys gone by then).

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
    limit: Flags.integer({
      description: `stop after this many keys; 0 for all [default: ${TTY_LIMIT.toLocaleString('en-US')} on a terminal, all elsewhere]`,
      min: 0,
    }),
    resolve: Flags.boolean({description: 'add the metric and sample name from each meta key (tab-separated columns in a pipe)'}),
    format: formatFlag(KEYS_FORMATS, 'table on a terminal, lines when piped (tsv with --resolve)'),
    wide: wideFlag,
  }

  async run(): Promise<KeysResult | {count: number; truncated: boolean; otherPrefixSkipped: number}> {
    const {flags} = this
    const {prefix} = this.loaded.config
    const output = chooseOutput(flags, flags.resolve ? 'tsv' : 'lines')
    if (flags.resolve && output.format === 'lines')
      this.note('--resolve does nothing with -o lines (one key per line): ignored; -o tsv adds the metric and sample as columns')
    if (this.args.pattern?.startsWith(`${prefix}:`)) {
      this.note(`PATTERN is matched after "${prefix}:" (the prefix is added for you): did you mean '${this.args.pattern.slice(prefix.length + 1)}'?`)
    }
    const table = output.format === 'table' && !this.jsonEnabled()
    // A terminal gets a readable amount by default; a pipe or --json gets everything unless told.
    const limit = flags.limit === 0 ? undefined : (flags.limit ?? (table ? TTY_LIMIT : undefined))
    const meter = progress('keys')
    const options: KeysOptions = {
      prefix,
      pattern: this.args.pattern,
      type: flags.type,
      mode: flags.mode,
      pid: flags.pid,
      kind: flags.kind,
      limit,
      resolve: flags.resolve,
      countAll: table,
      onProgress: (n) => meter.update(n),
    }
    const redis = await this.redis()
    if ((output.format === 'lines' || output.format === 'tsv') && !this.jsonEnabled()) {
      // A pipe gets keys as they are found: memory stays at a batch or two, and `| head` gets them at once.
      let unsafe = 0
      // Lines on a terminal (-o lines or tsv asked for) share it with the progress line: it is erased before each batch.
      const writeOut = (text: string) => {
        if (process.stdout.isTTY) meter.done()
        return writeStdout(text)
      }
      let done: Awaited<ReturnType<typeof streamKeys>>
      if (output.format === 'tsv') {
        await writeOut(tsvLine(KEY_COLUMNS.map((c) => c.head)) + '\n')
        done = await streamKeys(redis, options, (rows) => writeOut(rows.map((r) => tsvLine(keyCells(r)) + '\n').join(''))).finally(() => meter.done())
      } else {
        // Names only: nothing is read per key (ops/keys.ts says why no TTL is asked).
        // A name of the schema is as safe in a line as the prefix is: only foreign names are judged one by one.
        const prefixSafe = isLineSafe(prefix)
        done = await streamKeyNames(redis, options, async ({schema, schemaCount, foreign}) => {
          let text = ''
          if (prefixSafe) text = schema
          else unsafe += schemaCount
          for (const name of foreign) {
            if (isLineSafe(name)) text += name + '\n'
            else unsafe++
          }
          if (text) await writeOut(text)
        }).finally(() => meter.done())
      }
      if (unsafe > 0)
        this.note(
          `left out ${plural(unsafe, 'key')} whose names hold control characters, whitespace, quotes or backslashes: one key per line cannot carry them safely (--json, tsv or a table shows them escaped)`,
        )
      if (done.truncated) this.note(`stopped at --limit ${count(flags.limit!)}`)
      return done
    }
    const result = await listKeys(redis, options).finally(() => meter.done())
    if (!this.jsonEnabled()) {
      if (result.keys.length === 0) this.note(`no keys under prefix "${prefix}" match`)
      else this.log(renderTable(keyColumns(Boolean(flags.resolve)), result.keys.map(keyCells), {color: colorEnabled(process.stdout), wide: output.wide}))
      if (result.truncated) {
        const of = result.total === undefined ? '' : ` of ${count(result.total)}`
        this.note(`showing ${count(result.keys.length)}${of} keys (--limit 0 for all)`)
      }
    }
    return result
  }
}

/** With --resolve, what a key names matters more than its parts: type and kind (in the key itself) move to the wide view. */
function keyColumns(resolve: boolean): Column[] {
  if (!resolve) return KEY_COLUMNS.slice(0, 5)
  return KEY_COLUMNS.map((c) => (c.head === 'type' || c.head === 'kind' ? {...c, wide: true} : c))
}

/** A key's cells: the type with its gauge mode (`gauge (livesum)`), the TTL as a duration. */
function keyCells(k: KeyRow): Cell[] {
  const type = k.artifact ? 'gauge (artifact)' : k.mode ? `gauge (${k.mode})` : k.type
  return [k.key, type, k.pid, k.kind, k.ttl === null ? 'none' : duration(k.ttl), k.metric, k.sample]
}

/** Writes to stdout, waiting while a slow reader (a pipe) catches up. */
async function writeStdout(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}
