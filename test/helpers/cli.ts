/** Runs the built CLI as a user would: a real process, real exit code, stdout and stderr apart. */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Only what the test gives reaches the child: no REDIS_* leaks in from the machine. */
export function runCli(args: string[], env: Record<string, string> = {}, options: {input?: string; timeoutMs?: number} = {}): Promise<CliResult> {
  const base: Record<string, string> = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', COLUMNS: '200'}
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...base, ...env}, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redismp ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms`))
    }, options.timeoutMs ?? 30_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Starts the CLI and hands back the process, for tests that signal or race it. */
export function startCli(args: string[], env: Record<string, string> = {}): {child: ReturnType<typeof spawn>; done: Promise<CliResult>} {
  const base: Record<string, string> = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', COLUMNS: '200'}
  const child = spawn(process.execPath, [BIN, ...args], {env: {...base, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({code, stdout, stderr})))
  return {child, done}
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`, as
 * a person at a terminal would. Returns the exit code and everything shown.
 */
export function runCliOnTty(args: string[], env: Record<string, string>, input: string): Promise<{code: number | null; screen: string}> {
  const assignments = Object.entries({NO_COLOR: '1', ...env}).map(([k, v]) => `${k}=${shellQuote(v)}`)
  const command = ['env', ...assignments, shellQuote(process.execPath), shellQuote(BIN), ...args.map(shellQuote)].join(' ')
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    let screen = ''
    child.stdout.on('data', (d) => (screen += d))
    child.stderr.on('data', (d) => (screen += d))
    child.on('close', (code) => resolve({code, screen}))
    child.stdin.end(input)
  })
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
