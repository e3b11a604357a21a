/**
 * The bulk-read lane: a private connection for reading a whole prefix, spoken
 * to in raw RESP (resp.ts). ioredis opens it (`duplicate()`: the same host,
 * TLS, ACL user, db and Sentinel master as the main connection) and then lets
 * go of its socket; from there a request is a buffer of many commands and a
 * callback per reply that reads the reply's bytes where they lie.
 *
 * Failures end the lane, never hang it: an error reply the caller does not
 * expect, a dropped socket, or no byte for the command timeout while replies
 * are owed reject every pending request with an error mapRedisError knows.
 */
import type {Redis} from 'ioredis'

import {failureOf, giveUp, openChecked} from './connect.js'
import {encodeHead, ReplyCursor, ReplyFramer} from './resp.js'

/** Gets one whole reply; `r` is positioned at its first byte. Throwing ends the lane. */
export type OnReply = (r: ReplyCursor) => void

interface Pending {
  replies: number
  onReply: OnReply
  resolve: () => void
  reject: (error: Error) => void
}

/** An error reply, named as ioredis names them so that mapRedisError reads it the same way. */
export class ReplyError extends Error {
  override name = 'ReplyError'
}

const DEFAULT_TIMEOUT_MS = 10_000
const PING = encodeHead(1, 'PING')

export class RawLane {
  private inbox = Buffer.allocUnsafe(1 << 20)
  /** inbox[head, tail) holds bytes not yet delivered. */
  private head = 0
  private tail = 0
  private readonly framer = new ReplyFramer()
  private readonly cursor = new ReplyCursor()
  private readonly queue: Pending[] = []
  private failure: Error | undefined
  private timer: NodeJS.Timeout | undefined
  private keepAliveTimer: NodeJS.Timeout | undefined

  private constructor(
    private readonly parent: Redis,
    private readonly owner: Redis,
    private readonly socket: NodeJS.ReadWriteStream & {destroy(): void},
    private readonly timeoutMs: number,
  ) {
    socket.removeAllListeners('data')
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    // The lane is open, so whatever the socket says now (ECONNRESET, EPIPE) means the connection was
    // lost mid-walk, not a refused or misconfigured connect: say so, keeping the cause for DEBUG.
    socket.on('error', (error: Error) => this.fail(new Error('Connection is closed.', {cause: error})))
    socket.on('close', () => this.fail(new Error('Connection is closed.')))
  }

  /**
   * Opens a lane beside `redis`: the same server, user, TLS and database,
   * checked as the main connection was (openChecked). A connection given up
   * after a timeout opens no lane: the server did not answer it.
   */
  static async open(redis: Redis): Promise<RawLane> {
    const failure = failureOf(redis)
    if (failure) throw failure
    // RESP2 whatever the main connection negotiated: the replies parsed here have one shape.
    // disconnectTimeout 0: closing a lane whose server went away (its socket already closed) made ioredis wait
    // 2 s for a 'close' that had come, keeping the process alive after its error line.
    const dup = await openChecked(redis.duplicate({lazyConnect: true, connectionName: 'redismp-read', protocol: 2, disconnectTimeout: 0}))
    // Connected, ioredis has had every handshake reply: nothing is left to arrive for it.
    const socket = dup.stream as unknown as NodeJS.ReadWriteStream & {destroy(): void}
    return new RawLane(redis, dup, socket, redis.options.commandTimeout ?? DEFAULT_TIMEOUT_MS)
  }

  /**
   * Sends `commands` (already encoded) and calls `onReply` for each of the
   * `replies` replies they produce, in order. Resolves once all were read.
   * `onSent` is told when the commands' buffer may be reused.
   */
  request(commands: Buffer, replies: number, onReply: OnReply, onSent?: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (replies === 0) {
      onSent?.()
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      this.queue.push({replies, onReply, resolve, reject})
      this.watch()
      this.socket.write(commands, onSent && (() => onSent()))
    })
  }

  /** Why the lane ended, when it failed. */
  get failed(): Error | undefined {
    return this.failure
  }

  /**
   * PINGs the server every `ms` while the lane owes nothing: a listing's lane
   * sits idle while its reader is slow, or while the masters before its own
   * are listed, and a server's idle `timeout` (or a load balancer's) would
   * close it under the listing.
   */
  keepAlive(ms: number): void {
    this.keepAliveTimer ??= setInterval(() => {
      if (this.queue.length === 0 && !this.failure) this.request(PING, 1, () => undefined).catch(() => undefined)
    }, ms).unref()
  }

  /** Closes the connection; pending requests fail. */
  close(): void {
    this.fail(new Error('Connection is closed.'))
    this.owner.disconnect()
  }

  private receive(chunk: Buffer): void {
    this.timer?.refresh()
    this.append(chunk)
    try {
      for (;;) {
        const end = this.framer.feed(this.inbox, this.tail)
        if (end < 0) break
        const pending = this.queue[0]
        if (!pending) throw new Error('a reply arrived that nothing asked for')
        pending.onReply(this.cursor.at(this.inbox, this.head))
        this.head = end
        if (--pending.replies === 0) {
          this.queue.shift()
          pending.resolve()
        }
      }
    } catch (error) {
      this.fail(error as Error)
      this.owner.disconnect()
      return
    }
    if (this.head === this.tail) {
      this.framer.reset(0)
      this.head = this.tail = 0
    }
    if (this.queue.length === 0) this.unwatch()
  }

  /** Appends a chunk, moving undelivered bytes to the front or growing the inbox when needed. */
  private append(chunk: Buffer): void {
    if (this.tail + chunk.length > this.inbox.length) {
      const kept = this.tail - this.head
      const target = kept + chunk.length > this.inbox.length ? Buffer.allocUnsafe(Math.max(this.inbox.length * 2, kept + chunk.length)) : this.inbox
      this.inbox.copy(target, 0, this.head, this.tail)
      this.inbox = target
      this.framer.shift(this.head)
      this.head = 0
      this.tail = kept
    }
    chunk.copy(this.inbox, this.tail)
    this.tail += chunk.length
  }

  private fail(error: Error): void {
    if (this.failure) return
    this.failure = error
    this.unwatch()
    clearInterval(this.keepAliveTimer)
    for (const p of this.queue.splice(0)) p.reject(error)
  }

  /**
   * While replies are owed, silence longer than the command timeout ends the
   * lane, and the connection it was opened beside: the server is not
   * answering, and waiting on it again (QUIT, a lock's release) would cost another timeout.
   */
  private watch(): void {
    if (this.timer || this.timeoutMs <= 0) return
    this.timer = setTimeout(() => {
      const timedOut = new Error('Command timed out')
      this.fail(timedOut)
      this.socket.destroy()
      giveUp(this.parent, timedOut)
    }, this.timeoutMs)
  }

  private unwatch(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}
