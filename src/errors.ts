/**
 * Every failure a user can cause maps to one of these and to one exit code.
 * The three Redis errors carry the names of the Python backend's classes.
 */

export const ExitCode = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  CONNECTION: 3,
  REFUSED: 4,
  PARTIAL: 5,
  CHECK_FAILED: 6,
  REDIS_REFUSED: 7,
  NOT_FOUND: 8,
  INTERRUPTED: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export const EXIT_CODE_TABLE: ReadonlyArray<[number, string]> = [
  [ExitCode.OK, 'success (prune: also when nothing needed pruning)'],
  [ExitCode.UNEXPECTED, 'unexpected error (a bug: please report it)'],
  [ExitCode.USAGE, 'bad flag, argument or REDIS_* variable, or a database number the server does not have'],
  [
    ExitCode.CONNECTION,
    'Redis unreachable, refused, TLS failed, wrong password/ACL, not Redis on that port, timed out, or a cluster that resharded or failed over during a read',
  ],
  [ExitCode.REFUSED, 'refused: needs --yes off a TTY, prefix already holds data, lock held, or answered no'],
  [ExitCode.PARTIAL, 'partial failure: some keys could not be processed (re-run to finish)'],
  [ExitCode.CHECK_FAILED, 'check failed: health unhealthy, --strict found foreign data or warnings, or foreign data blocked a write'],
  [ExitCode.REDIS_REFUSED, 'Redis refused the command: out of memory (OOM), a read-only replica (READONLY), or a command disabled or renamed on the server'],
  [ExitCode.NOT_FOUND, 'not found: pid PID has no keys under the prefix'],
  [ExitCode.INTERRUPTED, 'interrupted (SIGINT, or Ctrl-C at a prompt)'],
]

export class RedismpError extends Error {
  readonly exitCode: ExitCode = ExitCode.UNEXPECTED
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = new.target.name
  }
}

export class ConfigError extends RedismpError {
  override readonly exitCode = ExitCode.USAGE
}

/** Redis could not be reached or dropped the connection (refused, unknown host, TLS, reset). */
export class RedisConnectionError extends RedismpError {
  override readonly exitCode = ExitCode.CONNECTION
}

/** Redis did not answer in time (connect or command timeout). */
export class RedisTimeoutError extends RedismpError {
  override readonly exitCode = ExitCode.CONNECTION
}

/** Redis refused our credentials (WRONGPASS, NOAUTH, NOPERM for the ACL user). */
export class RedisAuthenticationError extends RedismpError {
  override readonly exitCode = ExitCode.CONNECTION
}

/**
 * Redis answered and refused the command for a reason of its own state or
 * setup: out of memory with noeviction, a read-only replica, a command
 * disabled or renamed (rename-command). Not a bug of ours, not a lost connection.
 */
export class RedisRefusedError extends RedismpError {
  override readonly exitCode = ExitCode.REDIS_REFUSED
}

/** A destructive or writing command declined to act: no --yes off a TTY, lock held, prefix in use. */
export class RefusedError extends RedismpError {
  override readonly exitCode = ExitCode.REFUSED
}

/** Some of the work was done and some was not; a re-run finishes it. */
export class PartialFailureError extends RedismpError {
  override readonly exitCode = ExitCode.PARTIAL
}

/** A check that ran to completion and found a problem (health, --strict). */
export class CheckFailedError extends RedismpError {
  override readonly exitCode = ExitCode.CHECK_FAILED
}

/** The user interrupted (Ctrl-C at a prompt): nothing more was done. */
export class InterruptedError extends RedismpError {
  override readonly exitCode = ExitCode.INTERRUPTED
}

/** What was asked for is not in the store (`pid 99999`: no keys of that pid), as kubectl's NotFound. */
export class NotFoundError extends RedismpError {
  override readonly exitCode = ExitCode.NOT_FOUND
}
