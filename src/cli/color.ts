/**
 * Colour is decided here, not by chalk: chalk ignores NO_COLOR. Never with
 * NO_COLOR set to something (no-color.org: an empty NO_COLOR does not count);
 * else FORCE_COLOR (anything but 0 or false) forces it, for
 * `FORCE_COLOR=1 redismp pids -o table | less -R`; else only on a terminal
 * that is not TERM=dumb.
 */
import {Chalk, type ChalkInstance} from 'chalk'

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return !/^(0|false)$/i.test(force)
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

export function paint(stream: NodeJS.WriteStream): ChalkInstance {
  return new Chalk({level: colorEnabled(stream) ? 1 : 0})
}
