/**
 * The Prometheus text format exactly as prometheus_client.generate_latest
 * writes it, so `promtool check metrics` accepts it and a diff against the
 * Python exporter's /metrics is empty.
 */
import type {MetricFamily} from './aggregate.js'
import {floatToGoString} from './pyfloat.js'
import {compareCodePoints} from './pyjson.js'

const escapeHelp = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')
const escapeLabelValue = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"')

export function generateLatest(families: readonly MetricFamily[]): string {
  const out: string[] = []
  for (const f of families) {
    const name = f.type === 'counter' ? `${f.name}_total` : f.name
    out.push(`# HELP ${name} ${escapeHelp(f.help)}\n`, `# TYPE ${name} ${f.type}\n`)
    for (const s of f.samples) {
      const labels = [...s.labels].sort(([a], [b]) => compareCodePoints(a, b))
      const labelText = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : ''
      out.push(`${s.name}${labelText} ${floatToGoString(s.value)}\n`)
    }
  }
  return out.join('')
}
