/**
 * oclif's command_not_found hook: an unknown command is a usage error (exit 2)
 * that names the nearest command, in the one-line `error: …` form
 * (bin/run.js prints it). @oclif/plugin-not-found asks interactively instead,
 * which hangs a script.
 */
import type {Hook} from '@oclif/core'

import {ConfigError} from '../errors.js'
import {nearest} from './suggest.js'

const hook: Hook<'command_not_found'> = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  const guess = nearest(options.id, ids)
  const hint = guess ? `did you mean ${guess}?` : `the commands are ${ids.sort().join(', ')}`
  throw new ConfigError(`unknown command "${options.id}": ${hint} (${options.config.bin} --help lists them)`)
}

export default hook
