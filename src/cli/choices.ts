/** Flag definitions shared by several commands. */
import {Flags} from '@oclif/core'

import {parseDuration} from '../config/duration.js'
import {GAUGE_MODES, METRIC_TYPES} from '../metrics/keys.js'

export const typeFlag = Flags.option({options: METRIC_TYPES, description: 'only this metric type'})
export const modeFlag = Flags.option({options: GAUGE_MODES, helpValue: 'MODE', description: 'only gauges of this multiprocess mode'})
export const pidFlag = Flags.integer({description: 'only this worker process id', min: 1})

/**
 * A retention or liveness duration (`90s`, `10m`, `2h`, `1d`), parsed to
 * milliseconds. It decides what is deleted or counted dead, so it must carry
 * a unit (in a crontab, `--stale 10` more likely meant minutes than seconds)
 * and be more than zero.
 */
export const durationFlag = Flags.custom<number>({
  async parse(input, _context, flag) {
    const ms = parseDuration(input, {requireUnit: true})
    if (ms === undefined) throw new Error(`--${flag.name} ${input}: expected a duration with a unit such as 90s, 10m, 2h or 1d`)
    if (ms <= 0) throw new Error(`--${flag.name} ${input}: expected a duration greater than 0`)
    return ms
  },
})

/** Label names, comma-separated or repeated (`--by path,method`, `--by path --by method`). */
export const labelListFlag = Flags.custom<string[]>({
  multiple: true,
  async parse(input, _context, flag) {
    const names = input
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)
    const bad = names.find((n) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n))
    if (names.length === 0 || bad !== undefined) throw new Error(`--${flag.name} ${input}: expected label names separated by commas (path,method)`)
    return names
  },
})
