/**
 * Failures outside a command (an unknown command, oclif's own errors before a
 * command runs) in redismp's form: one line `error: …` on stderr, a JSON error
 * object on stdout under --json, and a documented exit code. A command's own
 * failures are reported by BaseCommand.catch, which ends in an ExitError.
 */
import {Errors} from '@oclif/core'

import {ExitCode, RedismpError} from '../errors.js'
import {messageText} from '../render/safe-text.js'
import {formatIsJson} from './output.js'
import {paint} from './color.js'

export function reportFailure(error: unknown, argv: readonly string[] = process.argv.slice(2)): number {
  if (error instanceof Errors.ExitError) return error.oclif.exit ?? ExitCode.UNEXPECTED
  const oclifExit = (error as {oclif?: {exit?: number}})?.oclif?.exit
  const exitCode =
    error instanceof RedismpError
      ? error.exitCode
      : oclifExit !== undefined && oclifExit !== 1
        ? oclifExit
        : oclifExit === 1
          ? ExitCode.USAGE
          : ExitCode.UNEXPECTED
  const message = oneLine(String((error as Error)?.message ?? error))
  const json = argv.includes('--json') || formatIsJson(argv)
  if (json) process.stdout.write(JSON.stringify({error: {message, exitCode, name: (error as Error)?.name ?? 'Error'}}, null, 2) + '\n')
  process.stderr.write(`${paint(process.stderr).red('error:')} ${messageText(message)}\n`)
  return exitCode
}

/** oclif's messages span lines and point at --help: one line. */
export function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('See more help'))
    .join(' ')
}
