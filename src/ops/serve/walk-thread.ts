/**
 * The walk of `serve`, on a worker thread: a walk of a million keys is
 * seconds of CPU (parsing replies, folding series, writing ~10 MB of text,
 * gzipping it), and on the server's thread each batch would hold up every
 * scrape behind it. Here it runs beside the server, which only sends the
 * buffers this thread posts (transferred, not copied).
 *
 * One walk at a time: the server (walker.ts) sends the next `walk` only
 * once this thread has posted the last one's outcome.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {gzipSync} from 'node:zlib'

import {exposition} from '../../metrics/exposition.js'
import {endpointOf} from '../../redis/connect.js'
import {mapRedisError} from '../../redis/errors.js'
import {errorType, timeOperation} from '../../storage/redis-metrics.js'
import {collectGarbage} from '../collect-garbage.js'
import {dump} from '../dump.js'
import {RedisLink} from './link.js'
import type {OperationEvent, WalkerInit, WalkOutcome} from './outcome.js'

const {config, selection} = workerData as WalkerInit
// ioredis talks to the console on its own (a password the server does not need): stderr stays one line per failure, as in the CLI.
console.warn = () => undefined
const port = parentPort!

/** Collects this walk's connections and operations, posted with its outcome. */
class EventBuffer {
  operations: OperationEvent[] = []
  connections = 0
  connected(count = 1): void {
    this.connections += count
  }
  record(operation: string, seconds: number, type?: string): void {
    this.operations.push(type === undefined ? {operation, seconds} : {operation, seconds, errorType: type})
  }
  async time<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return timeOperation(this, operation, run)
  }
  take(): {operations: OperationEvent[]; connections: number} {
    const taken = {operations: this.operations, connections: this.connections}
    this.operations = []
    this.connections = 0
    return taken
  }
}

const events = new EventBuffer()
const link = new RedisLink(config, events)

async function walk(): Promise<WalkOutcome> {
  const startedAt = Date.now()
  const start = process.hrtime.bigint()
  const seconds = () => Number(process.hrtime.bigint() - start) / 1e9
  try {
    const redis = await link.get()
    let laneOpened = false
    const result = await events.time('walk', () =>
      dump(redis, {
        ...selection,
        // The walk's read lane is a connection of its own, open once the first SCAN reply came back.
        onProgress() {
          if (!laneOpened) events.connected()
          laneOpened = true
        },
        // As dump does: each walk's garbage goes before its families are made, walk after walk.
        afterRead: collectGarbage,
      }),
    )
    const text = [...exposition(result.families)].join('')
    const body = own(Buffer.from(text))
    const gzip = own(gzipSync(body))
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1])
    const samples = result.families.reduce((n, f) => n + f.samples.length, 0)
    return {ok: true, startedAt, seconds: seconds(), body, gzip, families, samples, stats: result.stats, ...events.take()}
  } catch (error) {
    // The connection may be half-dead or mid-reply: the next walk starts on a fresh one.
    link.drop()
    const message = String((mapRedisError(error, endpointOf(config)) ?? (error as Error))?.message ?? error)
    return {ok: false, startedAt, seconds: seconds(), error: {name: errorType(error), message}, ...events.take()}
  }
}

/** Bytes in an ArrayBuffer of their own, which can be transferred (a small Buffer is a slice of a shared pool). */
function own(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b)
}

port.on('message', async (message: {type: 'walk' | 'close'}) => {
  if (message.type === 'close') {
    await link.close().catch(() => undefined)
    port.close()
    return
  }
  const outcome = await walk()
  const transfer = outcome.ok ? [outcome.body.buffer as ArrayBuffer, outcome.gzip.buffer as ArrayBuffer] : []
  port.postMessage(outcome, transfer)
})
