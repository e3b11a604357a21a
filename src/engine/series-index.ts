/**
 * Numbers the series of a walk by their md5, read straight from the key's
 * bytes: 32 hex digits become four 32-bit words in an open-addressing table.
 * At a million keys a Map keyed by hash strings cost a string and a string
 * hash per key; this costs a hex decode and, mostly, one probe.
 */

const HEX = new Int8Array(256).fill(-1)
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i

export class SeriesIndex {
  /** words[4 * id .. 4 * id + 3]: the md5 of series `id`. */
  private words = new Uint32Array(4 * 1024)
  /** slot -> id + 1 (0: empty). */
  private slots = new Int32Array(2048)
  private count = 0

  get size(): number {
    return this.count
  }

  /**
   * The id of the series whose 32 lowercase hex digits start at `at`, new
   * ids numbered from 0 in order of first sight; -1 when they are not hex.
   */
  idOf(bytes: Uint8Array, at: number): number {
    let w0 = 0
    let w1 = 0
    let w2 = 0
    let w3 = 0
    for (let i = 0; i < 8; i++) {
      const a = HEX[bytes[at + i]]
      const b = HEX[bytes[at + 8 + i]]
      const c = HEX[bytes[at + 16 + i]]
      const d = HEX[bytes[at + 24 + i]]
      if ((a | b | c | d) < 0) return -1
      w0 = (w0 << 4) | a
      w1 = (w1 << 4) | b
      w2 = (w2 << 4) | c
      w3 = (w3 << 4) | d
    }
    return this.find(w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0)
  }

  /** Whether 32 lowercase hex digits start at `at`. */
  static isHash(bytes: Uint8Array, at: number): boolean {
    for (let i = 0; i < 32; i++) if (HEX[bytes[at + i]] < 0) return false
    return true
  }

  /** The 32 hex digits of series `id`. */
  hexOf(id: number): string {
    let hex = ''
    for (let i = 0; i < 4; i++) hex += this.words[4 * id + i].toString(16).padStart(8, '0')
    return hex
  }

  private find(w0: number, w1: number, w2: number, w3: number): number {
    const mask = this.slots.length - 1
    // md5 words are uniform: any of them is a good hash; mixing guards against non-md5 data.
    let slot = Math.imul(w0 ^ w3, 0x9e_37_79_b1) >>> 0
    for (;;) {
      slot &= mask
      const held = this.slots[slot]
      if (held === 0) break
      const at = 4 * (held - 1)
      const {words} = this
      if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return held - 1
      slot++
    }
    const id = this.count++
    if (4 * this.count > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2)
      grown.set(this.words)
      this.words = grown
    }
    const {words} = this
    words[4 * id] = w0
    words[4 * id + 1] = w1
    words[4 * id + 2] = w2
    words[4 * id + 3] = w3
    this.slots[slot] = id + 1
    if (2 * this.count > this.slots.length) this.rehash()
    return id
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2)
    const mask = slots.length - 1
    for (let id = 0; id < this.count; id++) {
      let slot = Math.imul(this.words[4 * id] ^ this.words[4 * id + 3], 0x9e_37_79_b1) >>> 0
      while (slots[slot & mask] !== 0) slot++
      slots[slot & mask] = id + 1
    }
    this.slots = slots
  }
}
