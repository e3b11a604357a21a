/**
 * The hand-written RESP2 framer, cursor and command writer of the bulk-read
 * lane (src/redis/resp.ts), on fixed replies and against an independent
 * decoder (redis-parser, ioredis's own parser before v6, used only here) on
 * random replies delivered in every possible split.
 */
import Parser from 'redis-parser'
import {describe, expect, it} from 'vitest'

import {parsePyFloatBytes} from '../../src/metrics/pyfloat.js'
import {CommandWriter, encodeArgs, encodeHead, ReplyCursor, ReplyFramer} from '../../src/redis/resp.js'

/** Frames `bytes` delivered in the given chunk sizes, as the lane does; returns each reply's [start, end). */
function frameInChunks(bytes: Buffer, sizes: () => number): [number, number][] {
  const framer = new ReplyFramer()
  const out: [number, number][] = []
  let start = 0
  let available = 0
  while (available < bytes.length) {
    available = Math.min(bytes.length, available + sizes())
    for (let end = framer.feed(bytes, available); end >= 0; end = framer.feed(bytes, available)) {
      out.push([start, end])
      start = end
    }
  }
  return out
}

describe('RESP framing and writing', () => {
  const replies = [
    '+OK\r\n',
    '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n',
    ':-42\r\n',
    '$-1\r\n',
    '$0\r\n\r\n',
    '$5\r\nab\r\nc\r\n', // CRLF inside a bulk string is data
    '*-1\r\n',
    '*0\r\n',
    '*3\r\n$3\r\n1.0\r\n$-1\r\n$12\r\n1700000000.5\r\n',
    '*2\r\n$5\r\n12345\r\n*2\r\n$3\r\nk:1\r\n$3\r\nk:2\r\n',
    '*2\r\n*1\r\n*0\r\n:7\r\n',
  ]
  const stream = Buffer.from(replies.join(''))
  const expected = (() => {
    let at = 0
    return replies.map((r) => [at, (at += Buffer.byteLength(r))] as [number, number])
  })()

  it('finds every reply end whatever the chunk boundaries', () => {
    expect(frameInChunks(stream, () => stream.length)).toEqual(expected)
    expect(frameInChunks(stream, () => 1)).toEqual(expected)
    let seed = 7
    for (let round = 0; round < 200; round++) {
      const sizes = () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) % 9) + 1
      expect(frameInChunks(stream, sizes)).toEqual(expected)
    }
  })

  it('refuses bytes that are not RESP2 (a RESP3 null, say) instead of misreading them', () => {
    expect(() => new ReplyFramer().feed(Buffer.from('_\r\n'), 3)).toThrow(/unexpected RESP type byte 0x5f/)
  })

  it('reads the parts of a reply with the cursor', () => {
    const r = new ReplyCursor().at(Buffer.from(replies[8]), 0)
    expect(r.count()).toBe(3)
    expect(r.bulk()).toBe(true)
    expect(r.text()).toBe('1.0')
    expect(r.bulk()).toBe(false)
    expect(r.bulk()).toBe(true)
    expect(parsePyFloatBytes(r.buf, r.start, r.end)).toBe(1_700_000_000.5)
    expect(new ReplyCursor().at(Buffer.from(replies[1]), 0).line()).toMatch(/^WRONGTYPE /)
  })

  it('writes commands as redis-cli would: lengths in bytes, any byte in an argument', () => {
    const w = new CommandWriter(8)
    const key = Buffer.from('x$é\r\nz')
    w.raw(encodeHead(3, 'HGET')).bytes(key, 0, key.length).raw(encodeArgs('original_key'))
    w.command(2).arg('GET').spliced(Buffer.from('a:metric:h'), 0, 10, 2, 8, Buffer.from('meta'))
    expect(w.take().toString('latin1')).toBe(
      Buffer.from('*3\r\n$4\r\nHGET\r\n$7\r\nx$é\r\nz\r\n$12\r\noriginal_key\r\n*2\r\n$3\r\nGET\r\n$8\r\na:meta:h\r\n').toString('latin1'),
    )
    // A detached buffer is handed back and used again, never shared while in use.
    const first = w.command(1).arg('PING').detach()
    const second = w.command(1).arg('PONG').detach()
    expect(first.toString()).toBe('*1\r\n$4\r\nPING\r\n')
    expect(second.toString()).toBe('*1\r\n$4\r\nPONG\r\n')
    w.reuse(first)
    // The writer goes on in a fresh buffer; the one after it is the one given back.
    expect(w.command(1).arg('ECHO').detach().buffer).not.toBe(first.buffer)
    const again = w.command(1).arg('ECHO').detach()
    expect(again.buffer).toBe(first.buffer)
    expect(again.toString()).toBe('*1\r\n$4\r\nECHO\r\n')
  })
})

/** A reply as a JS value, whichever decoder read it: bulk strings as latin1 text, so any byte compares exactly. */
type Value = null | number | string | {error: string} | Value[]

/** Random RESP2 replies with their encoding: nested arrays, nils, empty and binary bulks (CRLF, `$`, `*` inside). */
function randomReplies(seed: number, count: number): {bytes: Buffer; values: Value[]} {
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0)
  const pick = (n: number) => next() % n
  const randomBytes = (n: number) => Buffer.from(Array.from({length: n}, () => [0x0d, 0x0a, 0x24, 0x2a, 0x3a, pick(256)][pick(6)]))
  const text = () => Array.from({length: pick(12)}, () => 'abcXYZ 0:-_é'[pick(12)]).join('')
  function reply(depth: number): [Buffer, Value] {
    switch (pick(depth > 2 ? 5 : 7)) {
      case 0: {
        const t = text()
        return [Buffer.from(`+${t}\r\n`), t]
      }
      case 1: {
        const t = `ERR ${text()}`
        return [Buffer.from(`-${t}\r\n`), {error: t}]
      }
      case 2: {
        const n = (pick(2) ? -1 : 1) * pick(1e9)
        return [Buffer.from(`:${n}\r\n`), n]
      }
      case 3:
        return [Buffer.from('$-1\r\n'), null]
      case 4: {
        const b = randomBytes(pick(3) === 0 ? 0 : pick(40))
        return [Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]), b.toString('latin1')]
      }
      case 5:
        return [Buffer.from(pick(2) ? '*-1\r\n' : '*0\r\n'), null]
      default: {
        const parts = Array.from({length: 1 + pick(5)}, () => reply(depth + 1))
        return [Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.map((p) => p[0])]), parts.map((p) => p[1])]
      }
    }
  }
  const all = Array.from({length: count}, () => reply(0))
  // The values say null for both `*0` and `*-1`; only the generator's self-check looks at them.
  return {bytes: Buffer.concat(all.map((r) => r[0])), values: all.map((r) => r[1])}
}

/** Every reply redis-parser finds in `chunks`, fed one after another as a socket would. */
function parseWithRedisParser(chunks: Buffer[]): Value[] {
  const out: Value[] = []
  const toValue = (v: unknown): Value =>
    v === null
      ? null
      : Array.isArray(v)
        ? v.map(toValue)
        : Buffer.isBuffer(v)
          ? v.toString('latin1')
          : v instanceof Error // an error inside an array
            ? {error: v.message}
            : (v as Value)
  const parser = new Parser({
    returnBuffers: true,
    returnReply: (reply: unknown) => out.push(toValue(reply)),
    returnError: (err: Error) => out.push({error: err.message}),
    returnFatalError(err: Error) {
      throw err
    },
  })
  for (const chunk of chunks) parser.execute(chunk)
  return out
}

/** One framed reply read back with ReplyCursor, the way the lane's readers walk it. */
function readWithCursor(cursor: ReplyCursor): Value {
  switch (cursor.type) {
    case 0x2b:
      return cursor.line()
    case 0x2d:
      return {error: cursor.line()}
    case 0x3a:
      return cursor.count()
    case 0x24:
      return cursor.bulk() ? cursor.buf.toString('latin1', cursor.start, cursor.end) : null
    default: {
      const n = cursor.count()
      return n < 0 ? null : Array.from({length: n}, () => readWithCursor(cursor))
    }
  }
}

describe('RESP framing against redis-parser, an independent decoder', () => {
  const streams = Array.from({length: 40}, (_, i) => randomReplies(1000 + i, 1 + (i % 7)))

  it('finds the same replies, with the same content, in every two-chunk split of random streams', () => {
    for (const {bytes} of streams) {
      const reference = parseWithRedisParser([bytes])
      for (let cut = 0; cut <= bytes.length; cut++) {
        let first = true
        const bounds = frameInChunks(bytes, () => (first ? ((first = false), cut === 0 ? bytes.length : cut) : bytes.length))
        expect(bounds.length).toBe(reference.length)
        // Each framed slice, alone, is exactly one reply to redis-parser and reads the same with our cursor.
        const cursor = new ReplyCursor()
        bounds.forEach(([start, end], i) => {
          expect(parseWithRedisParser([bytes.subarray(start, end)])).toEqual([reference[i]])
          expect(readWithCursor(cursor.at(bytes, start))).toEqual(reference[i])
          expect(cursor.pos).toBe(end)
        })
        expect(bounds.at(-1)?.[1]).toBe(bytes.length)
        // And redis-parser itself, split the same way, agrees with its whole-stream reading.
        expect(parseWithRedisParser([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(reference)
      }
    }
  })

  it('finds the same replies byte by byte and in random chunk sizes', () => {
    let seed = 3
    for (const {bytes} of streams) {
      const reference = parseWithRedisParser([bytes])
      const single = frameInChunks(bytes, () => 1)
      const random = frameInChunks(bytes, () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) % 17) + 1)
      expect(random).toEqual(single)
      expect(single.map(([start, end]) => parseWithRedisParser([bytes.subarray(start, end)])[0])).toEqual(reference)
    }
  })

  it('the generator is right about what it wrote (nils and empty arrays aside)', () => {
    // A check on the test itself: redis-parser reads the generator's values back.
    const nilless = (v: Value): Value => (Array.isArray(v) ? (v.length === 0 ? null : v.map(nilless)) : v)
    for (const {bytes, values} of streams) expect(parseWithRedisParser([bytes]).map(nilless)).toEqual(values.map(nilless))
  })

  it('commands from CommandWriter are what redis-parser reads as the same arguments', () => {
    // A command is a RESP array of bulk strings: the decoder reads requests as well as replies.
    let seed = 11
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0)
    const w = new CommandWriter(16)
    const expected: Value[] = []
    for (let c = 0; c < 500; c++) {
      const args = Array.from({length: 1 + (next() % 5)}, () => Buffer.from(Array.from({length: next() % 30}, () => next() % 256)))
      w.command(args.length)
      args.forEach((a, i) => (i % 2 ? w.bytes(a, 0, a.length) : w.arg(a.toString('latin1') === a.toString('utf8') ? a.toString('utf8') : 'x')))
      expected.push(args.map((a, i) => (i % 2 || a.toString('latin1') === a.toString('utf8') ? a.toString('latin1') : 'x')))
    }
    expect(parseWithRedisParser([w.take()])).toEqual(expected)
  })
})
