/**
 * A one-line progress counter on stderr, for the long walks (dump, keys,
 * prune, seed, health's census of millions of keys). Only on a terminal: a
 * pipe or a log gets nothing, stdout is never touched, and the line is erased
 * when done — or when interrupted (clearProgress), so "interrupted" starts a
 * clean line.
 */
import {count} from './human.js'

export interface Progress {
  update(done: number): void
  done(): void
}

const SILENT: Progress = {update: () => undefined, done: () => undefined}

/** The streams that show a progress line right now. */
const showing = new Set<NodeJS.WriteStream>()

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr, everyMs = 250, unit = 'keys'): Progress {
  if (!stream.isTTY) return SILENT
  let last = 0
  return {
    update(done) {
      const now = Date.now()
      if (now - last < everyMs) return
      last = now
      showing.add(stream)
      stream.write(`\r${label}: ${count(done)} ${unit}…\u001b[K`)
    },
    done() {
      if (showing.delete(stream)) stream.write('\r\u001b[K')
    },
  }
}

/** Erases any progress line still shown (on Ctrl-C, before the message that follows). */
export function clearProgress(): void {
  for (const stream of showing) stream.write('\r\u001b[K')
  showing.clear()
}
