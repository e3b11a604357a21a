/**
 * Retries with exponential backoff, for operations that are safe to repeat
 * (reads, connecting). Never wrap a destructive write in it: a write that
 * timed out may have happened.
 */
import {RedisConnectionError, RedisTimeoutError} from '../errors.js'

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** Which errors are worth another attempt; default: connection and timeout errors. */
  retryOn?: (error: unknown) => boolean
  /** Told before each wait, e.g. to print a notice on stderr. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

export const isTransient = (error: unknown): boolean => error instanceof RedisConnectionError || error instanceof RedisTimeoutError

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const {attempts = 3, baseDelayMs = 100, maxDelayMs = 2000, retryOn = isTransient, onRetry} = options
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= attempts || !retryOn(error)) throw error
      const delayMs = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
      onRetry?.(error, attempt, delayMs)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}
