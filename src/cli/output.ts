/**
 * One output flag for every command that prints data, as kubectl's `-o`:
 * `-o json` is `--json` (one JSON shape per command), `-o wide` (or `--wide`)
 * is the table with every column, `-o tsv` tab-separated columns for awk.
 * Without it: a table on a terminal, the command's pipe form elsewhere.
 * Conflicting choices (`--format prometheus --json`) are a usage error,
 * never a silent pick.
 */
import {Flags} from '@oclif/core'

import {ConfigError} from '../errors.js'

export function formatFlag<const T extends readonly string[]>(formats: T, defaults: string) {
  return Flags.option({
    char: 'o',
    options: formats,
    description: `output format: ${formats.join(', ')} (json is --json, wide the table with every column) [default: ${defaults}]`,
  })()
}

export const wideFlag = Flags.boolean({description: 'every column, nothing shortened to fit the terminal (-o wide)'})

export interface OutputChoice<F extends string> {
  /** The format to draw; `table` also for `wide`. */
  format: F | 'table'
  wide: boolean
}

/**
 * The format a command draws, from its flags and where stdout goes. `json`
 * is handled by oclif (--json, see BaseCommand.jsonEnabled) and never
 * returned here; a conflict is exit 2 naming both flags.
 */
export function chooseOutput<F extends string>(
  flags: {format?: string; wide?: boolean; json?: boolean},
  pipeDefault: F,
  isTTY = Boolean(process.stdout.isTTY),
): OutputChoice<F> {
  const {format} = flags
  const json = flags.json || format === 'json'
  if (flags.json && format !== undefined && format !== 'json') throw new ConfigError(`--format ${format} and --json contradict each other: choose one`)
  if (flags.wide && format !== undefined && format !== 'wide' && format !== 'table')
    throw new ConfigError(`--wide is a table view and --format ${format} is not: choose one`)
  if (flags.wide && json) throw new ConfigError('--wide is a table view and --json is not: choose one')
  if (format === 'wide' || flags.wide) return {format: 'table', wide: true}
  if (format !== undefined && format !== 'json') return {format: format as F, wide: false}
  return {format: isTTY ? 'table' : pipeDefault, wide: false}
}

/** Whether argv asks for JSON through the format flag (`--format json`, `-o json`, `--format=json`, `-ojson`). */
export function formatIsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  const args = end === -1 ? argv : argv.slice(0, end)
  return args.some((a, i) => ((a === '--format' || a === '-o') && args[i + 1] === 'json') || a === '--format=json' || a === '-ojson' || a === '-o=json')
}
