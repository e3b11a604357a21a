/** The md5 series index the bulk reads number series with. */
import {createHash, randomBytes} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {SeriesIndex} from '../../src/engine/series-index.js'

describe('SeriesIndex', () => {
  it('numbers md5 digests in order of first sight, the same digest always alike, through growth', () => {
    const index = new SeriesIndex()
    const digests = Array.from({length: 20_000}, () => createHash('md5').update(randomBytes(8)).digest('hex'))
    const ids = digests.map((d) => index.idOf(Buffer.from(`k:${d}`), 2))
    expect(ids).toEqual(digests.map((_, i) => i))
    expect(index.size).toBe(digests.length)
    // Seen again, in another buffer at another offset: the same numbers.
    digests.forEach((d, i) => expect(index.idOf(Buffer.from(`xyz${d}`), 3)).toBe(i))
    digests.forEach((d, i) => expect(index.hexOf(i)).toBe(d))
  })

  it('answers -1 for what is not 32 lowercase hex digits', () => {
    const index = new SeriesIndex()
    expect(index.idOf(Buffer.from('A'.repeat(32)), 0)).toBe(-1)
    expect(index.idOf(Buffer.from('g' + 'a'.repeat(31)), 0)).toBe(-1)
    expect(index.idOf(Buffer.from('a'.repeat(31) + ':'), 0)).toBe(-1)
    expect(index.size).toBe(0)
  })
})
