import {describe, expect, it} from 'vitest'

import {newSlotHolder, PidBits, slotOf} from '../../src/engine/repeats.js'

describe('PidBits: which (pid, type) keys of a series SCAN has shown', () => {
  it('tells a repeat from a first sight, and has() only reads', () => {
    const bits = new PidBits()
    const a = newSlotHolder()
    const b = newSlotHolder()
    expect(bits.has(a, 7, 2)).toBe(false)
    expect(bits.isRepeat(a, 7, 2)).toBe(false)
    expect(bits.has(a, 7, 2)).toBe(true)
    expect(bits.isRepeat(a, 7, 2)).toBe(true)
    // Another series, another type, another pid: each its own.
    expect(bits.has(b, 7, 2)).toBe(false)
    expect(bits.isRepeat(a, 7, 3)).toBe(false)
    expect(bits.has(a, 8, 2)).toBe(false)
    expect(bits.slotsOf(a).sort((x, y) => x - y)).toEqual([slotOf(7, 2), slotOf(7, 3)])
  })

  it('past 32 pids, and under a second type, falls back to a list without losing a slot', () => {
    const bits = new PidBits()
    const h = newSlotHolder()
    const pids = Array.from({length: 70}, (_, i) => 1000 + i)
    for (const pid of pids) expect(bits.isRepeat(h, pid, 1)).toBe(false)
    for (const pid of pids) expect(bits.isRepeat(h, pid, 5)).toBe(false)
    for (const pid of pids) {
      expect(bits.has(h, pid, 1)).toBe(true)
      expect(bits.has(h, pid, 5)).toBe(true)
      expect(bits.isRepeat(h, pid, 1)).toBe(true)
      expect(bits.isRepeat(h, pid, 5)).toBe(true)
    }
    expect(bits.has(h, 999, 1)).toBe(false)
    expect(bits.slotsOf(h).sort((x, y) => x - y)).toEqual(pids.flatMap((pid) => [slotOf(pid, 1), slotOf(pid, 5)]).sort((x, y) => x - y))
  })
})
