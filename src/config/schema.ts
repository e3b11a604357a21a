/**
 * The zod schema of the environment, made from the settings table: every
 * variable optional, an empty value counting as unset. The same parsers check
 * the flags (load.ts), so both fail with the same explanation.
 */
import {z} from 'zod/v3' // why v3: see parsers.ts

import {SETTING_NAMES, type SettingName, SETTINGS, type SettingValue} from './settings.js'

export type FieldName = SettingName
export type FieldValues = {[F in FieldName]: SettingValue<F>}

/** The parser of each setting, by name. */
export const field = Object.fromEntries(SETTING_NAMES.map((f) => [f, SETTINGS[f].parse])) as {[F in FieldName]: (typeof SETTINGS)[F]['parse']}

/** The environment variable behind each setting. */
export const ENV_VARS = Object.fromEntries(SETTING_NAMES.map((f) => [f, SETTINGS[f].env])) as {[F in FieldName]: (typeof SETTINGS)[F]['env']}

export const EnvSchema = z.object(
  Object.fromEntries(SETTING_NAMES.map((f) => [ENV_VARS[f], z.preprocess((v) => (v === '' ? undefined : v), field[f].optional())])) as unknown as {
    [F in FieldName as (typeof ENV_VARS)[F]]: z.ZodType<SettingValue<F> | undefined>
  },
)
