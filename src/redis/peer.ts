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

/** The bytes a RESP2 or RESP3 reply can begin with. */
const RESP_TYPES = new Set([...'+-:$*_,#!=(%~>|'].map((c) => c.charCodeAt(0)))
const KEEP = 256

const LOOKS_LIKE: [RegExp, string][] = [
  [/^HTTP\/\d/, 'HTTP'],
  [/^<(!doctype|html|\?xml)/i, 'HTML'],
  [/^SSH-\d/, 'SSH'],
  [/^\x15\x03[\x00-\x04]/, 'TLS: add --tls'],
]

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

  /** True when the peer's first byte cannot start a Redis reply. */
  get notResp(): boolean {
    return this.received && !RESP_TYPES.has(this.kept[0])
  }

  /** The text of an error reply the peer began with (Redis refusing us at once: DENIED, NOAUTH, max clients). */
  get errorLine(): string | undefined {
    if (this.kept[0] !== 0x2d) return undefined
    const end = this.kept.indexOf('\r\n')
    return this.kept.toString('utf8', 1, end < 0 ? this.kept.length : end)
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
