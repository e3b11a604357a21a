/**
 * A full garbage collection, on demand. Node gives V8's gc() only to runs
 * started with --expose-gc; the flag, set now, exposes it in contexts made
 * after it, so one is made to take it from (as jest's leak detector does).
 *
 * dump calls it once, between reading the store and making the families: on
 * the 1M-key bench store ~37 of the heap's 106 MB are dead by then (the
 * walk's replies, batches and promoted scratch), and V8, which had not run a
 * full collection since the walk's first second, grew the heap by the
 * families' size on top of them: peak RSS 250-257 MB. Collected first, it
 * stays at 213-218 MB, for ~0.1 s of CPU.
 */
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

let gc: (() => void) | undefined

export function collectGarbage(): void {
  if (!gc) {
    const exposed = (globalThis as {gc?: () => void}).gc
    if (exposed) gc = exposed
    else {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    }
  }
  gc()
}
