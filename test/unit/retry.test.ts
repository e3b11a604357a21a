/** withRetry: which errors it retries, and how long it waits between tries. */
import {describe, expect, it} from 'vitest'

import {RedisConnectionError, RedisTimeoutError, withRetry} from '../../src/index.js'

describe('withRetry', () => {
  it('retries connection and timeout errors with exponential backoff, then gives up', async () => {
    const delays: number[] = []
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          throw new RedisTimeoutError('slow')
        },
        {attempts: 4, baseDelayMs: 1, onRetry: (_e, _a, d) => delays.push(d)},
      ),
    ).rejects.toBeInstanceOf(RedisTimeoutError)
    expect(calls).toBe(4)
    expect(delays).toEqual([1, 2, 4])
  })

  it('returns the first success and never retries other errors', async () => {
    let calls = 0
    expect(await withRetry(async () => (++calls < 2 ? Promise.reject(new RedisConnectionError('reset')) : 'ok'), {baseDelayMs: 1})).toBe('ok')
    expect(calls).toBe(2)
    calls = 0
    await expect(
      withRetry(
        async () => {
          throw new Error(`WRONGTYPE ${++calls}`)
        },
        {baseDelayMs: 1},
      ),
    ).rejects.toThrow('WRONGTYPE 1')
  })
})
