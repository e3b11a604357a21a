/**
 * The settings table (src/config/settings.ts) is the one source of the
 * environment schema, the defaults and the flags: what each view shows is
 * checked against the rows, so a new row needs nothing else to be complete.
 */
import {describe, expect, it} from 'vitest'

import {connectionFlags, flagInput, ttlFlags} from '../../src/cli/flags.js'
import {DEFAULTS, loadConfig} from '../../src/config/load.js'
import {ENV_VARS, EnvSchema} from '../../src/config/schema.js'
import {SETTING_NAMES, settingOf, SETTINGS} from '../../src/config/settings.js'
import {ConfigError} from '../../src/errors.js'

const withFlags = SETTING_NAMES.filter((f) => settingOf(f).flag)
const flagName = (f: (typeof SETTING_NAMES)[number]) => settingOf(f).flag!.name

describe('the settings table', () => {
  it('names each variable, flag and letter once', () => {
    const once = (xs: unknown[]) => expect(new Set(xs).size).toBe(xs.length)
    once(SETTING_NAMES.map((f) => settingOf(f).env))
    once(withFlags.map(flagName))
    once(withFlags.map((f) => settingOf(f).flag!.char).filter(Boolean))
  })

  it('is what the environment schema reads, in table order', () => {
    expect(Object.keys(EnvSchema.shape)).toEqual(SETTING_NAMES.map((f) => settingOf(f).env))
    expect(ENV_VARS).toEqual(Object.fromEntries(SETTING_NAMES.map((f) => [f, settingOf(f).env])))
  })

  it('is where the defaults come from', () => {
    expect(DEFAULTS).toEqual(Object.fromEntries(SETTING_NAMES.filter((f) => 'default' in SETTINGS[f]).map((f) => [f, settingOf(f).default])))
    expect(loadConfig({}).config).toEqual(DEFAULTS)
  })

  it('gives every flag, in its help group and table order, with the variable behind it in its help', () => {
    const flags: Record<string, {helpGroup?: string; description?: string; char?: string; type: string}> = {...connectionFlags, ...ttlFlags}
    const inGroup = (group: string) => withFlags.filter((f) => settingOf(f).flag!.group === group).map(flagName)
    expect(Object.keys(connectionFlags)).toEqual(inGroup('CONNECTION'))
    expect(Object.keys(ttlFlags)).toEqual(inGroup('STORAGE'))
    expect(Object.keys(flags).sort()).toEqual(withFlags.map(flagName).sort())
    for (const f of withFlags) {
      const {flag, env} = settingOf(f)
      const oclif = flags[flag!.name]
      expect(oclif.helpGroup).toBe(flag!.group)
      expect(oclif.char).toBe(flag!.char)
      expect(oclif.type).toBe(flag!.switch ? 'boolean' : 'option')
      expect(oclif.description).toContain(`[env: ${env}`)
    }
  })

  it('checks a flag with the same parser as its variable: the same message, naming each its origin', () => {
    const bad = ['abc', '-1', 'x:y', 'ftp://h', '0', ':']
    let checked = 0
    for (const f of withFlags) {
      const {env, flag, parse} = settingOf(f)
      if (flag!.switch) continue
      const value = bad.find((v) => !parse.safeParse(v).success)
      if (value === undefined) continue // host, password, file names: any such text is one
      const fromEnv = () => loadConfig({[env]: value})
      const fromFlag = () => loadConfig({}, flagInput({[flag!.name]: value}))
      expect(fromEnv).toThrow(ConfigError)
      const message = (run: () => unknown) => {
        try {
          run()
        } catch (error) {
          return (error as Error).message
        }
      }
      expect(message(fromFlag)).toBe(message(fromEnv)!.replace(env, `--${flag!.name}`))
      checked++
    }
    expect(checked).toBe(10)
  })
})
