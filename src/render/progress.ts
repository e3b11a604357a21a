/**
 * A one-line progress counter on stderr, for the long walks (dump, prune,
 * health's census of millions of keys). Only on a terminal: a pipe or a log
 * gets nothing, stdout is never touched, and the line is erased when done.
 */
export interface Progress {
  update(done: number): void
  done(): void
}

const SILENT: Progress = {update: () => undefined, done: () => undefined}

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr, everyMs = 250): Progress {
  if (!stream.isTTY) return SILENT
  let last = 0
  let shown = false
  return {
    update(done) {
      const now = Date.now()
      if (now - last < everyMs) return
      last = now
      shown = true
      stream.write(`\r${label}: ${done.toLocaleString('en-US')} keys…\u001b[K`)
    },
    done() {
      if (shown) stream.write('\r\u001b[K')
    },
  }
}
