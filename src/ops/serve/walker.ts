/**
 * The server's side of the walk thread (walk-thread.ts): one walk at a time,
 * each a promise of its outcome. A thread that dies (out of memory, a bug) is
 * started again for the next walk, and the walk it was on fails with why.
 */
import {Worker} from 'node:worker_threads'

import type {RedisConfig} from '../../config/load.js'
import type {DumpOptions} from '../dump.js'
import type {WalkerInit, WalkOutcome} from './outcome.js'

const THREAD = new URL('walk-thread.js', import.meta.url)

export class Walker {
  private worker?: Worker
  private pending?: {resolve: (o: WalkOutcome) => void; startedAt: number}
  private closed = false

  constructor(
    private readonly config: RedisConfig,
    private readonly selection: DumpOptions,
  ) {}

  /** Walks once; never rejects (a failure is an outcome). Callers never ask twice at once. */
  walk(): Promise<WalkOutcome> {
    if (this.pending) throw new Error('walk already running')
    const startedAt = Date.now()
    if (this.closed) return Promise.resolve(failed(startedAt, 'ShuttingDown', 'the server is shutting down'))
    const worker = (this.worker ??= this.start())
    return new Promise((resolve) => {
      this.pending = {resolve, startedAt}
      worker.postMessage({type: 'walk'})
    })
  }

  /** Ends the thread, and with it a walk in progress (its Redis connections close with the thread). */
  async close(): Promise<void> {
    this.closed = true
    const {worker} = this
    this.worker = undefined
    this.settle(failed(this.pending?.startedAt ?? Date.now(), 'ShuttingDown', 'the server is shutting down'))
    if (!worker) return
    // A walk in progress is not waited for: quitting politely is for an idle connection.
    await worker.terminate()
  }

  private start(): Worker {
    const init: WalkerInit = {config: this.config, selection: this.selection}
    const worker = new Worker(THREAD, {workerData: init})
    worker.on('message', (outcome: WalkOutcome) => this.settle(outcome))
    worker.on('error', (error) => {
      if (this.worker === worker) this.worker = undefined
      this.settle(failed(this.pending?.startedAt ?? Date.now(), 'WalkThreadError', `the walk thread failed: ${error.message}`))
    })
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined
      this.settle(failed(this.pending?.startedAt ?? Date.now(), 'WalkThreadError', 'the walk thread exited'))
    })
    return worker
  }

  private settle(outcome: WalkOutcome): void {
    const {pending} = this
    this.pending = undefined
    pending?.resolve(outcome)
  }
}

function failed(startedAt: number, name: string, message: string): WalkOutcome {
  return {ok: false, startedAt, seconds: (Date.now() - startedAt) / 1000, connections: 0, operations: [], error: {name, message}}
}
