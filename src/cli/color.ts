/**
 * Colour is decided here, not by chalk: chalk ignores NO_COLOR. Colour on a
 * terminal unless NO_COLOR is set to something (no-color.org: an empty
 * NO_COLOR does not count) or TERM=dumb; FORCE_COLOR (anything but 0 or false)
 * forces it, for `redismp pids | less -R`.
 */
import {Chalk, type ChalkInstance} from 'chalk'

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return !/^(0|false)$/i.test(force)
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb'
}

export function paint(stream: NodeJS.WriteStream): ChalkInstance {
  return new Chalk({level: colorEnabled(stream) ? 1 : 0})
}
