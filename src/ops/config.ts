/** `config`: the effective settings and where each came from; secrets are never shown. */
import {type ConfigField, describeSource, type LoadedConfig} from '../config/load.js'
import {ENV_VARS, type FieldName} from '../config/schema.js'
import {settingOf} from '../config/settings.js'

export interface ConfigRow {
  setting: ConfigField
  env: string
  value: string | number | boolean | null
  source: string
}

export function describeConfig({config, sources}: LoadedConfig): ConfigRow[] {
  return (Object.keys(ENV_VARS) as FieldName[])
    .filter((f): f is ConfigField => f !== 'url')
    .map((f) => {
      const raw = config[f]
      let value: ConfigRow['value'] = Array.isArray(raw)
        ? raw.map((s) => `${s.host}:${s.port}`).join(',')
        : typeof raw === 'object'
          ? Object.entries(raw)
              .map(([from, to]) => `${from}=${to.host}:${to.port}`)
              .join(',')
          : (raw ?? null)
      if (settingOf(f).secret && raw !== undefined) value = '(set, hidden)'
      return {setting: f, env: ENV_VARS[f], value, source: sources[f] ? describeSource(f, sources[f]) : 'unset'}
    })
}
