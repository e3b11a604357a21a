/**
 * The cluster slot of a key, as Redis computes it: CRC16 (XMODEM) of the key,
 * or of its hash tag (the bytes between the first `{` and the next `}`, when
 * not empty), modulo 16384. ioredis keeps its own copy private.
 */
export const SLOTS = 16_384

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let c = i << 8
  for (let k = 0; k < 8; k++) c = c & 0x80_00 ? (c << 1) ^ 0x10_21 : c << 1
  TABLE[i] = c & 0xff_ff
}

function crc16(b: Uint8Array, start: number, end: number): number {
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xff_ff) ^ TABLE[((crc >> 8) ^ b[i]) & 0xff]
  return crc
}

/** The slot of the key held in `b[start, end)`. */
export function keySlotOf(b: Uint8Array, start = 0, end = b.length): number {
  const open = b.indexOf(0x7b, start)
  if (open !== -1 && open < end) {
    const close = b.indexOf(0x7d, open + 1)
    if (close > open + 1 && close < end) return crc16(b, open + 1, close) % SLOTS
  }
  return crc16(b, start, end) % SLOTS
}

/** The slot of a key given as text (UTF-8, as Redis sees it). */
export const keySlot = (key: string) => keySlotOf(Buffer.from(key))

/** Items grouped by the slot of their key, in first-seen order: one script per group on a cluster (no CROSSSLOT). */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>()
  for (const item of items) {
    const slot = keySlot(keyOf(item))
    const group = groups.get(slot)
    if (group) group.push(item)
    else groups.set(slot, [item])
  }
  return [...groups.values()]
}
