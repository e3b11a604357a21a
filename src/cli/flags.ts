/**
 * The flags of the settings table (config/settings.ts): CONNECTION on every
 * command, STORAGE on the commands that write keys. They are read as text and
 * checked by the same parsers as the REDIS_* variables, so a bad `--port` and a
 * bad `REDIS_PORT` get the same explanation.
 */
import {Flags, type Interfaces} from '@oclif/core'

import type {FlagInput} from '../config/load.js'
import {type FlagGroup, flagHelp, SETTING_NAMES, settingOf, type Settings} from '../config/settings.js'

type Letter = Parameters<typeof Flags.string>[0] extends infer O ? (O extends {char?: infer C} ? C : never) : never

/** The flags of a group as oclif types them: a switch is a boolean, any other flag text for the parsers. */
type FlagsOf<G extends FlagGroup> = {
  [K in keyof Settings as Settings[K] extends {flag: {group: G; name: infer N extends string}} ? N : never]: Settings[K] extends {flag: {switch: string}}
    ? Interfaces.BooleanFlag<boolean>
    : Interfaces.OptionFlag<string | undefined>
}

/** The oclif flags of one help group, in table order. */
function flagsOf<G extends FlagGroup>(group: G): FlagsOf<G> {
  const out: Record<string, unknown> = {}
  for (const name of SETTING_NAMES) {
    const {flag} = settingOf(name)
    if (flag?.group !== group) continue
    const common = {helpGroup: group, description: flagHelp(name), ...(flag.char ? {char: flag.char as Letter} : {})}
    out[flag.name] = flag.switch ? Flags.boolean({...common, ...(flag.switch === 'negatable' ? {allowNo: true} : {})}) : Flags.string(common)
  }
  return out as FlagsOf<G>
}

export const connectionFlags = flagsOf('CONNECTION')

/** Flags of commands that write keys (seed, prune --fix-ttl). */
export const ttlFlags = flagsOf('STORAGE')

/** The settings the user gave as flags, as text for the parsers. */
export function flagInput(flags: Record<string, unknown>): FlagInput {
  const input: FlagInput = {}
  for (const f of SETTING_NAMES) {
    const name = settingOf(f).flag?.name
    const v = name === undefined ? undefined : flags[name]
    if (v === undefined) continue
    // oclif gives `false` for an absent boolean flag; only an explicit --no-X means false.
    if (v === false && !process.argv.includes(`--no-${name}`)) continue
    input[f] = {value: String(v), flag: `--${name}`}
  }
  return input
}
