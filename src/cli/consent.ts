/**
 * Consent for destructive commands: --yes, or an answer at the terminal.
 * Off a terminal (cron, CI, a pipe) without --yes the command refuses, so a
 * script never deletes by accident and never hangs waiting for an answer.
 */
import {createInterface} from 'node:readline/promises'

import {RefusedError} from '../errors.js'

export async function requireConsent(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new RefusedError('refusing to delete without --yes when not run from a terminal (use --dry-run to see what would go)')
  }
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase()
    if (answer !== 'y' && answer !== 'yes') throw new RefusedError('answered no: nothing was deleted')
  } finally {
    rl.close()
  }
}
