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

/** Keys typed once the screen shows `waitFor`: for answering a prompt only after it is there. */
export interface TtyStep {
  waitFor: RegExp
  send: string
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`, as
 * a person at a terminal would. Returns the exit code and everything shown.
 * Given steps, each is typed when the screen first matches its `waitFor`:
 * keys such as Ctrl-C (\x03) or Ctrl-D (\x04) mean what they mean only once
 * the program reads the terminal itself, after its prompt is shown.
 */
export function runCliOnTty(args: string[], env: Record<string, string>, input: string | TtyStep[]): Promise<{code: number | null; screen: string}> {
  const assignments = Object.entries({NO_COLOR: '1', ...env}).map(([k, v]) => `${k}=${shellQuote(v)}`)
  const command = ['env', ...assignments, shellQuote(process.execPath), shellQuote(BIN), ...args.map(shellQuote)].join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    const steps = typeof input === 'string' ? [] : [...input]
    let screen = ''
    const show = (d: Buffer) => {
      screen += d
      if (steps.length > 0 && steps[0].waitFor.test(screen)) child.stdin.write(steps.shift()!.send)
    }
    child.stdout.on('data', show)
    child.stderr.on('data', show)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redismp ${args.join(' ')} on a terminal did not finish within 30 s; screen: ${screen}`))
    }, 30_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, screen})
    })
    // Typed all at once; with steps, the terminal stays open until the program ends.
    if (typeof input === 'string') child.stdin.end(input)
  })
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
