/**
 * Colour is decided here, not by chalk: chalk ignores NO_COLOR. Colour only
 * on a TTY, never with NO_COLOR set (to anything), never on TERM=dumb.
 */
import {Chalk, type ChalkInstance} from 'chalk'

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

export function paint(stream: NodeJS.WriteStream): ChalkInstance {
  return new Chalk({level: colorEnabled(stream) ? 1 : 0})
}
