/**
 * The floor for any client on this machine: a bare walk that sends the
 * commands `redismp dump` sends for the bench store (a chained SCAN of the
 * metric keys, an HGET of original_key for each series' first meta, an HMGET
 * of value, timestamp and updated_at per key) on one socket, and folds
 * nothing: it only skips over the replies. What it takes beyond Redis's own
 * CPU is the cost of the round trips and of sharing the machine's cores with
 * Redis, which no aggregation can win back.
 *
 *   node bench/bare-walk.js PORT PREFIX   prints the number of keys read
 */
import {connect} from 'node:net'

const [port, prefix] = [Number(process.argv[2]), process.argv[3]]
const MATCH = `${prefix}:*:*:metric:*`
const command = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`

/** The end of the reply at `i` in `b`, or -1 when `b` does not hold all of it. */
function skip(b, i) {
  const eol = b.indexOf(13, i)
  if (eol === -1 || eol + 1 >= b.length) return -1
  const n = Number(b.toString('latin1', i + 1, eol))
  if (b[i] === 0x24) return n < 0 ? eol + 2 : eol + 2 + n + 2 <= b.length ? eol + 2 + n + 2 : -1
  if (b[i] === 0x2a) {
    let at = eol + 2
    for (let k = 0; k < n && at !== -1; k++) at = at < b.length ? skip(b, at) : -1
    return at
  }
  return eol + 2
}

/** The keys of the SCAN reply at [i, end) and its cursor. */
function scanReply(b, i) {
  const keys = []
  let at = b.indexOf(10, i) + 1 // *2
  let eol = b.indexOf(13, at)
  const cursorLength = Number(b.toString('latin1', at + 1, eol))
  const cursor = b.toString('latin1', eol + 2, eol + 2 + cursorLength)
  at = eol + 2 + cursorLength + 2
  eol = b.indexOf(13, at)
  const n = Number(b.toString('latin1', at + 1, eol))
  at = eol + 2
  for (let k = 0; k < n; k++) {
    eol = b.indexOf(13, at)
    const length = Number(b.toString('latin1', at + 1, eol))
    keys.push(b.toString('latin1', eol + 2, eol + 2 + length))
    at = eol + 2 + length + 2
  }
  return {cursor, keys}
}

const socket = connect(port, '127.0.0.1')
const seen = new Set()
/** What each awaited reply is: 's' a SCAN, 'x' anything skipped. */
const expected = []
let head = 0
let pending = Buffer.alloc(0)
let read = 0
let scanning = true

function send(cursor) {
  socket.write(command('SCAN', cursor, 'MATCH', MATCH, 'COUNT', '10000'))
  expected.push('s')
}

socket.on('data', (chunk) => {
  const b = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk
  let i = 0
  for (;;) {
    if (i >= b.length) break
    const end = skip(b, i)
    if (end === -1) break
    if (expected[head++] === 's') {
      const {cursor, keys} = scanReply(b, i)
      if (cursor === '0') scanning = false
      else send(cursor)
      let out = ''
      for (const key of keys) {
        const hash = key.slice(key.lastIndexOf(':') + 1)
        if (!seen.has(hash)) {
          seen.add(hash)
          out += command('HGET', key.replace(':metric:', ':meta:'), 'original_key')
          expected.push('x')
        }
        out += command('HMGET', key, 'value', 'timestamp', 'updated_at')
        expected.push('x')
      }
      read += keys.length
      socket.write(out)
    }
    i = end
  }
  pending = i < b.length ? b.subarray(i) : Buffer.alloc(0)
  if (!scanning && head === expected.length) {
    console.log(read)
    socket.end()
  }
})
send('0')
