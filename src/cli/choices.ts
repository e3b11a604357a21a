/** Flag definitions shared by several commands. */
import {Flags} from '@oclif/core'

import {parseDuration} from '../config/duration.js'
import {GAUGE_MODES, METRIC_TYPES} from '../metrics/keys.js'

export const typeFlag = Flags.option({options: METRIC_TYPES, description: 'only this metric type'})
export const modeFlag = Flags.option({options: GAUGE_MODES, description: 'only gauges of this multiprocess mode'})
export const pidFlag = Flags.integer({description: 'only this worker process id', min: 1})

/** A duration flag (`90s`, `10m`, `2h`, `1d`), parsed to milliseconds. */
export const durationFlag = Flags.custom<number>({
  parse: async (input) => {
    const ms = parseDuration(input)
    if (ms === undefined) throw new Error(`expected a duration such as 90s, 10m, 2h or 1d, got "${input}"`)
    return ms
  },
})
