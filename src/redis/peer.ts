/**
 * What the other end of a connection first said, kept while the handshake
 * runs: when it fails, these bytes tell an HTTP server or some other
 * service on the port apart from a Redis that refused us. ioredis would say
 * "Unknown RESP type 72", or, when the peer hung up on us, "reset", which
 * points at TLS; neither is the cause.
 */
import {connect as netConnect} from 'node:net'
import type {Readable} from 'node:stream'
import {type ConnectionOptions, connect as tlsConnect} from 'node:tls'

const KEEP = 256

const LOOKS_LIKE: [RegExp, string][] = [
  [/^HTTP\/\d/, 'HTTP'],
  [/^<(!doctype|html|\?xml)/i, 'HTML'],
  [/^SSH-\d/, 'SSH'],
  [/^\x15\x03[\x00-\x04]/, 'TLS: add --tls'],
]

/** What may follow each type byte on a reply's first line, up to its CRLF. */
const LINE_BYTES: Record<string, RegExp> = {
  '+': /^[^\x00-\x1f\x7f]*$/, // simple string: text
  '-': /^[^\x00-\x1f\x7f]*$/, // error: text
  ':': /^-?\d*$/, // integer
  $: /^-?\d*$/, // bulk string length (-1: null)
  '*': /^-?\d*$/, // array length
  '%': /^\d*$/, // map
  '~': /^\d*$/, // set
  '>': /^\d*$/, // push
  '|': /^\d*$/, // attributes
  '=': /^\d*$/, // verbatim string length
  '!': /^\d*$/, // blob error length
  '(': /^-?\d*$/, // big number
  ',': /^[-+.\deEinfa]*$/, // double (inf, nan)
  '#': /^[tf]?$/, // boolean
  _: /^$/, // null
}

/** Whether `kept` can be the start of a reply: a type byte, then a first line of its shape (or not yet all of it). */
function plausibleFirstLine(kept: Buffer): boolean {
  const shape = LINE_BYTES[String.fromCharCode(kept[0])]
  if (shape === undefined) return false
  const cr = kept.indexOf(0x0d)
  const line = kept.toString('latin1', 1, cr === -1 ? kept.length : cr)
  if (cr !== -1 && cr + 1 < kept.length && kept[cr + 1] !== 0x0a) return false
  return shape.test(line)
}

export class FirstBytes {
  private kept = Buffer.alloc(0)
  private stopWatching = () => {}

  /** Keeps the first bytes `stream` delivers, ahead of anyone else reading them, until stop(). */
  watch(stream: Readable): void {
    const onData = (chunk: Buffer) => {
      this.kept = Buffer.concat([this.kept, chunk.subarray(0, KEEP - this.kept.length)])
      if (this.kept.length >= KEEP) this.stop()
    }
    stream.prependListener('data', onData)
    this.stopWatching = () => stream.off('data', onData)
  }

  stop(): void {
    this.stopWatching()
  }

  get received(): boolean {
    return this.kept.length > 0
  }

  /**
   * True when the peer's first bytes cannot start a Redis reply: a type byte
   * no reply begins with, or a first line that is not of its type's shape.
   * The type byte alone lets one stranger in fifteen through (random bytes
   * beginning `$` leave ioredis waiting for a length that never ends, and
   * the run ended in a timeout instead of "not the Redis protocol").
   */
  get notResp(): boolean {
    return this.received && !plausibleFirstLine(this.kept)
  }

  /** The text of an error reply the peer began with (Redis refusing us at once: DENIED, NOAUTH, max clients). */
  get errorLine(): string | undefined {
    if (this.kept[0] !== 0x2d) return undefined
    const end = this.kept.indexOf('\r\n')
    return this.kept.toString('utf8', 1, end === -1 ? this.kept.length : end)
  }

  /** What the peer seems to be, when its first bytes say so. */
  get looksLike(): string | undefined {
    const text = this.kept.toString('latin1')
    return LOOKS_LIKE.find(([pattern]) => pattern.test(text))?.[1]
  }
}

export interface ProbeTarget {
  host: string
  port: number
  tls?: ConnectionOptions
  timeoutMs: number
}

/**
 * What the peer says to one PING sent in one write, on a connection of its
 * own. For when the handshake was reset before any byte arrived: ioredis
 * sends several commands, and a server that answers the first with an error
 * page and hangs up resets the connection under the rest, so that its page
 * is lost. Sent alone, the PING is read whole and the page arrives.
 */
export async function probePeer(target: ProbeTarget): Promise<FirstBytes> {
  const peer = new FirstBytes()
  const socket = target.tls ? tlsConnect({...target.tls, host: target.host, port: target.port}) : netConnect({host: target.host, port: target.port})
  peer.watch(socket)
  socket.on('error', () => undefined)
  socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write('*1\r\n$4\r\nPING\r\n'))
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, target.timeoutMs)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    socket.once('data', done)
    socket.once('close', done)
    socket.once('error', done)
  })
  peer.stop()
  socket.destroy()
  return peer
}
