/**
 * The Prometheus text format exactly as prometheus_client.generate_latest
 * writes it, so `promtool check metrics` accepts it and a diff against the
 * Python exporter's /metrics is empty.
 */
import type {MetricFamily} from './aggregate.js'
import {floatToGoString} from './pyfloat.js'
import {compareCodePoints} from './pyjson.js'

const NEEDS_ESCAPE = /[\\\n"]/
const escapeHelp = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')
const escapeLabelValue = (s: string) => (NEEDS_ESCAPE.test(s) ? s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"') : s)

/** Label pairs in code-point order of their names, as generate_latest's `sorted(labels.items())`; most arrive sorted. */
function sortedLabels(labels: [string, string][]): [string, string][] {
  for (let i = 1; i < labels.length; i++) {
    if (compareCodePoints(labels[i - 1][0], labels[i][0]) > 0) return [...labels].sort(([a], [b]) => compareCodePoints(a, b))
  }
  return labels
}

export function generateLatest(families: readonly MetricFamily[]): string {
  const out: string[] = []
  for (const f of families) {
    const name = f.type === 'counter' ? `${f.name}_total` : f.name
    out.push(`# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`)
    for (const s of f.samples) {
      let line = s.name
      if (s.labels.length > 0) {
        let sep = '{'
        for (const [k, v] of sortedLabels(s.labels)) {
          line += sep + k + '="' + escapeLabelValue(v) + '"'
          sep = ','
        }
        line += '}'
      }
      out.push(line + ' ' + floatToGoString(s.value) + '\n')
    }
  }
  return out.join('')
}
