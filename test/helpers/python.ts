/** The reference implementations, run as programs: Debian's python3 with prometheus_client. */
import {execFileSync} from 'node:child_process'

/** Debian's interpreter: a pyenv python3 earlier on PATH lacks the Debian packages. */
export const PYTHON = '/usr/bin/python3'

/** Runs a Python snippet with JSON on stdin and returns its JSON stdout. */
export function python<T>(code: string, input: unknown): T {
  const out = execFileSync(PYTHON, ['-c', code], {input: JSON.stringify(input), maxBuffer: 256 * 1024 * 1024})
  return JSON.parse(out.toString()) as T
}
