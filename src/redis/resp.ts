/**
 * RESP2 on bytes, for the bulk-read lane (lane.ts): a command writer that
 * copies key bytes straight from one reply into the next request, and a
 * framer that finds where each reply ends without building JS values. A
 * million keys through ioredis cost the client ~9 µs each in Command objects,
 * promises and decoded arrays; here a key costs a few byte copies.
 */

/** A growing buffer of RESP commands. */
export class CommandWriter {
  private buf: Buffer
  private len = 0

  /** Buffers handed out by detach() and given back by reuse(). */
  private readonly spare: Buffer[] = []

  constructor(private readonly capacity = 1 << 16) {
    // Never from Node's shared pool: a detached buffer must own its memory to be reused whole.
    this.buf = Buffer.allocUnsafeSlow(capacity)
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.len + n))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  private header(marker: number, n: number): void {
    this.room(24)
    const {buf} = this
    buf[this.len++] = marker
    // Digits by hand: String(n) and a write per argument showed in profiles.
    let digits = 1
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++
    let at = this.len + digits
    for (let x = n; at > this.len; x = Math.floor(x / 10)) buf[--at] = 0x30 + (x % 10)
    this.len += digits
    buf[this.len++] = 0x0d
    buf[this.len++] = 0x0a
  }

  /** Starts a command of `argc` arguments (its name included). */
  command(argc: number): this {
    this.header(0x2a, argc)
    return this
  }

  /** A text argument. */
  arg(text: string): this {
    const n = Buffer.byteLength(text)
    this.header(0x24, n)
    this.room(n)
    this.len += this.buf.write(text, this.len)
    return this.crlf()
  }

  /** An argument copied from bytes: src[start, end). */
  bytes(src: Buffer, start: number, end: number): this {
    this.header(0x24, end - start)
    return this.raw(src, start, end).crlf()
  }

  /** An argument made of src[start, cut) + insert + src[resume, end): a sibling key. */
  spliced(src: Buffer, start: number, end: number, cut: number, resume: number, insert: Buffer): this {
    this.header(0x24, cut - start + insert.length + end - resume)
    return this.raw(src, start, cut).raw(insert).raw(src, resume, end).crlf()
  }

  /** Bytes as they are: ready-made commands or arguments (see encodeArgs), or a bulk string copied whole from a reply. */
  raw(src: Buffer, start = 0, end = src.length): this {
    const n = end - start
    this.room(n)
    if (n > 48) {
      this.len += src.copy(this.buf, this.len, start, end)
      return this
    }
    // A command head or a field list: a loop costs less than Buffer#copy below ~48 bytes (measured), which also makes a view per partial copy.
    const {buf} = this
    let at = this.len
    for (let i = start; i < end; i++) buf[at++] = src[i]
    this.len = at
    return this
  }

  private crlf(): this {
    this.room(2)
    this.buf[this.len++] = 0x0d
    this.buf[this.len++] = 0x0a
    return this
  }

  /** The commands written, as a copy; the writer can be reused. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len))
    this.len = 0
    return out
  }

  /**
   * The commands written, without a copy: the writer goes on in another
   * buffer. Give the result back with reuse() once it is sent, so that a long
   * walk cycles through a few buffers instead of leaving one per batch to the GC.
   */
  detach(): Buffer {
    const out = this.buf.subarray(0, this.len)
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(Math.max(this.capacity, this.buf.length))
    this.len = 0
    return out
  }

  reuse(detached: Buffer): void {
    if (this.spare.length < 2) this.spare.push(Buffer.from(detached.buffer, detached.byteOffset, detached.buffer.byteLength - detached.byteOffset))
  }
}

/** A command's start encoded once: `*argc`, then its name (and any constant arguments that follow it). */
export function encodeHead(argc: number, ...args: string[]): Buffer {
  return new CommandWriter(64)
    .command(argc)
    .raw(encodeArgs(...args))
    .take()
}

/** Constant arguments encoded once: a command's name and the field names of every HMGET. */
export function encodeArgs(...args: string[]): Buffer {
  const w = new CommandWriter(64)
  for (const a of args) w.arg(a)
  return w.take()
}

/**
 * Finds where replies end in a stream of bytes, resumably: a reply that
 * arrives over many chunks (a SCAN batch is megabytes) is walked once, not
 * once per chunk. `feed` returns the end of the reply that began at the
 * first unconsumed byte, or -1 until all of it is there.
 */
export class ReplyFramer {
  /** Elements still owed by each open array, innermost last. */
  private readonly open: number[] = []
  /** Where the walk stopped: always the start of an element. */
  private at = 0

  /** Offsets moved by `delta` (the buffer was compacted). */
  shift(delta: number): void {
    this.at -= delta
  }

  reset(at: number): void {
    this.at = at
    this.open.length = 0
  }

  feed(buf: Uint8Array, end: number): number {
    let pos = this.at
    const {open} = this
    while (pos < end) {
      const type = buf[pos]
      // The header line: a number for * $ : and text for + -; either way up to CRLF.
      let p = pos + 1
      let n = 0
      let negative = false
      if (buf[p] === 0x2d && (type === 0x2a || type === 0x24)) {
        negative = true
        p++
      }
      while (p < end && buf[p] !== 0x0d) n = n * 10 + buf[p++] - 0x30
      if (p + 1 >= end) break
      p += 2
      if (negative) n = -n
      if (type === 0x2a) {
        if (n > 0) {
          open.push(n)
          pos = p
          this.at = pos
          continue
        }
      } else if (type === 0x24 && n >= 0) {
        if (p + n + 2 > end) break
        p += n + 2
      } else if (type !== 0x2b && type !== 0x2d && type !== 0x3a && type !== 0x24 && type !== 0x2a) {
        throw new Error(`unexpected RESP type byte 0x${type.toString(16)}`)
      }
      pos = p
      // One element done: close every array it completes.
      while (open.length > 0 && --open[open.length - 1] === 0) open.pop()
      this.at = pos
      if (open.length === 0) return pos
    }
    return -1
  }
}

/** Reads the parts of one framed reply. Positions are absolute in `buf`. */
export class ReplyCursor {
  buf: Buffer = Buffer.alloc(0)
  pos = 0

  at(buf: Buffer, pos: number): this {
    this.buf = buf
    this.pos = pos
    return this
  }

  get type(): number {
    return this.buf[this.pos]
  }

  /** The number in a `*`, `$` or `:` header, moving past it. */
  count(): number {
    const {buf} = this
    let p = this.pos + 1
    let negative = false
    if (buf[p] === 0x2d) {
      negative = true
      p++
    }
    let n = 0
    while (buf[p] !== 0x0d) n = n * 10 + buf[p++] - 0x30
    this.pos = p + 2
    return negative ? -n : n
  }

  /**
   * A bulk string's bounds, moving past it: sets `start` and `end`, and
   * returns false for a nil bulk.
   */
  bulk(): boolean {
    this.header = this.pos
    const n = this.count()
    if (n < 0) return false
    this.start = this.pos
    this.end = this.pos + n
    this.pos = this.end + 2
    return true
  }

  /** Where the last bulk string's `$` header began: header to end + 2 is the whole bulk, an argument as it is. */
  header = 0
  start = 0
  end = 0

  /** The text of a `+` or `-` line. */
  line(): string {
    const {buf} = this
    let p = this.pos + 1
    while (buf[p] !== 0x0d) p++
    const text = buf.toString('utf8', this.pos + 1, p)
    this.pos = p + 2
    return text
  }

  text(start = this.start, end = this.end): string {
    return this.buf.toString('utf8', start, end)
  }
}
