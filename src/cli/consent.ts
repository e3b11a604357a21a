/**
 * Consent for destructive commands: --yes, or an answer at the terminal.
 * Off a terminal (cron, CI, a pipe) without --yes the command refuses, so a
 * script never deletes by accident and never hangs waiting for an answer.
 * At the prompt, Ctrl-C interrupts (exit 130) and Ctrl-D (end of input) is a no.
 */
import {createInterface} from 'node:readline/promises'

import {InterruptedError, RefusedError} from '../errors.js'

export async function requireConsent(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new RefusedError('refusing to delete without --yes when not run from a terminal (use --dry-run to see what would go)')
  }
  const rl = createInterface({input: process.stdin, output: process.stderr})
  let answer: string | undefined
  try {
    answer = await new Promise<string | undefined>((resolve, reject) => {
      // The terminal is in raw mode while readline reads: Ctrl-C arrives as a key, not as SIGINT.
      // (readline leaves the question unsettled then: this promise settles it.)
      rl.once('SIGINT', () => reject(new InterruptedError('interrupted at the prompt: nothing was deleted')))
      // The end of input (Ctrl-D) closes the interface without an answer.
      rl.once('close', () => resolve(undefined))
      rl.question(`${question} [y/N] `).then(resolve, () => resolve(undefined))
    })
  } finally {
    if (answer === undefined) process.stderr.write('\n')
    rl.close()
  }
  const said = answer?.trim().toLowerCase()
  if (said !== 'y' && said !== 'yes') throw new RefusedError(`${said === undefined ? 'no answer (end of input)' : 'answered no'}: nothing was deleted`)
}
