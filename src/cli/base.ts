/**
 * BaseCommand owns what every command shares: the connection flags, the
 * REDIS_* config, one connection opened on demand and always closed, `--json`,
 * and one catch() that turns every failure into one line on stderr and a
 * documented exit code (never a stack trace, never oclif's exit 1 for --json).
 */
import {format} from 'node:util'

import {Command, Errors, type Interfaces} from '@oclif/core'

import {loadConfig, type LoadedConfig} from '../config/load.js'
import {EXIT_CODE_TABLE, ExitCode, RedisConnectionError, RedismpError} from '../errors.js'
import type {Connection} from '../redis/cluster.js'
import {closeRedis, connectRedis, endpointOf} from '../redis/connect.js'
import {mapRedisError} from '../redis/errors.js'
import {withRetry} from '../redis/retry.js'
import {clearProgress} from '../render/progress.js'
import {messageText, terminalText} from '../render/safe-text.js'
import {paint} from './color.js'
import {connectionFlags, flagInput} from './flags.js'
import {oneLine} from './failure.js'
import {formatIsJson} from './output.js'
import {nearest} from './suggest.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const debugEnabled = () => /\bredismp\b/.test(process.env.DEBUG ?? '')

export const EXIT_CODES_HELP = EXIT_CODE_TABLE.map(([code, what]) => `  ${String(code).padStart(3)}  ${what}`).join('\n')

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = connectionFlags

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected loaded!: LoadedConfig
  private connection?: Connection
  /** Colour for stderr messages (warnings, progress). */
  protected readonly err = paint(process.stderr)

  override async init(): Promise<void> {
    await super.init()
    // ioredis talks to the console on its own (a password the server does not need, …):
    // stderr stays one line per failure; DEBUG=redismp shows them.
    console.warn = (...args: unknown[]) => {
      if (debugEnabled()) process.stderr.write(`redismp: ${format(...args)}\n`)
    }
    process.once('SIGINT', () => this.interrupted())
    // `redismp keys | head`: the reader left, which is success, not an error.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(ExitCode.OK)
    })
    this.parsing = true
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.parsing = false
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.loaded = loadConfig(process.env, flagInput(this.flags))
  }

  /** True while oclif parses argv: anything thrown then is a usage error. */
  private parsing = false

  /** The connection, opened on first use. Connection resets and LOADING are retried; refusals are not. */
  protected async redis(): Promise<Connection> {
    if (!this.connection) {
      const {config} = this.loaded
      this.connection = await withRetry(() => connectRedis(config), {
        attempts: 2,
        baseDelayMs: 200,
        retryOn: (e) => e instanceof RedisConnectionError && /reset|cannot serve/.test(e.message),
      })
    }
    return this.connection
  }

  /** A warning on stderr (data stays alone on stdout). */
  protected note(message: string): void {
    clearProgress()
    process.stderr.write(`${this.err.yellow('warning:')} ${messageText(message)}\n`)
  }

  /**
   * Fails after a command has produced its data: with --json the data is still
   * printed (a health report, a prune summary), then the exit code says what went wrong.
   */
  protected failWithData(error: RedismpError, data: unknown): never {
    if (this.jsonEnabled()) {
      this.logJson(data)
      this.dataPrinted = true
    }
    throw error
  }

  private dataPrinted = false

  /**
   * JSON on stdout, plain: oclif colours it token by token, which on a 26 MB
   * report (pid of a 60k-series worker) cost seconds and half a GB, and writes
   * strings from Redis as they are. JSON escapes C0 controls itself; on a
   * terminal, C1 controls and bidi overrides are shown escaped too.
   */
  /** `--format json` (`-o json`) is `--json`: one JSON shape per command. */
  override jsonEnabled(): boolean {
    if (super.jsonEnabled()) return true
    const format = (this.ctor.flags as Record<string, {options?: readonly string[]}> | undefined)?.format
    return Boolean(format?.options?.includes('json')) && formatIsJson(this.argv)
  }

  override logJson(json: unknown): void {
    const text = JSON.stringify(json, null, 2) + '\n'
    process.stdout.write(process.stdout.isTTY ? terminalText(text) : text)
  }

  override async catch(error: Interfaces.CommandError): Promise<never> {
    clearProgress()
    const {message, exitCode} = this.describeFailure(error)
    if (this.jsonEnabled?.() && !this.dataPrinted) {
      this.logJson({error: {message, exitCode, name: (error as Error).name}})
    }
    process.stderr.write(`${this.err.red('error:')} ${messageText(message)}\n`)
    process.exitCode = exitCode
    throw new Errors.ExitError(exitCode)
  }

  override async finally(error: Error | undefined): Promise<void> {
    if (this.connection) await closeRedis(this.connection)
    await super.finally(error)
  }

  private describeFailure(error: unknown): {message: string; exitCode: number} {
    if (error instanceof Errors.ExitError) return {message: error.message, exitCode: error.oclif.exit ?? 1}
    const parseExit = (error as {oclif?: {exit?: number}})?.oclif?.exit
    if (!(error instanceof RedismpError) && (this.parsing || parseExit !== undefined)) {
      // oclif's parse errors span lines (and end in a pointer to --help): make them one.
      const text = oneLine(String((error as Error).message))
        // A flag parser of ours names the flag and its value itself.
        .replace(/^Parsing (--[\w-]+) (?=\1 )/, '')
        .replace(/^Parsing (--[\w-]+) /, '$1: ')
      return {message: `${text}${this.flagSuggestion(text)} (see --help)`, exitCode: ExitCode.USAGE}
    }
    const mapped = error instanceof RedismpError ? error : this.loaded ? mapRedisError(error, endpointOf(this.loaded.config)) : undefined
    if (mapped) return {message: mapped.message, exitCode: mapped.exitCode}
    // A bug: one line by default, the stack on request.
    if (debugEnabled()) process.stderr.write(`${(error as Error)?.stack ?? error}\n`)
    return {message: `unexpected: ${String((error as Error)?.message ?? error)} (DEBUG=redismp shows the stack)`, exitCode: ExitCode.UNEXPECTED}
  }

  /** For `Nonexistent flag: --wid`: `; did you mean --wide?` when one flag is close. */
  private flagSuggestion(text: string): string {
    const typed = /Nonexistent flags?: (--?[\w-]+)/.exec(text)?.[1]
    if (!typed) return ''
    const flags = {...(this.ctor as typeof BaseCommand).baseFlags, ...this.ctor.flags, json: {}}
    const names = Object.keys(flags).map((n) => `--${n}`)
    const guess = nearest(typed.startsWith('--') ? typed : `-${typed}`, names)
    return guess ? `; did you mean ${guess}?` : ''
  }

  /** Run on SIGINT before exiting 130 (e.g. to release a lock); given one second at most. */
  protected onInterrupt?: () => Promise<void>

  private interrupted(): void {
    clearProgress()
    process.stderr.write(`${this.err.red('interrupted')}\n`)
    const cleanup = this.onInterrupt?.().catch(() => undefined) ?? Promise.resolve()
    const deadline = new Promise((resolve) => setTimeout(resolve, 1000).unref())
    void Promise.race([cleanup, deadline]).finally(() => {
      this.connection?.disconnect()
      process.exit(ExitCode.INTERRUPTED)
    })
  }
}
