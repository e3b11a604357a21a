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

/**
 * The exposition in pieces of about `chunkSize` characters, for writing as it
 * is made: a million-key dump prints ~10 MB, and one string of it (plus the
 * lines it is joined from) was the largest allocation of the whole run.
 */
export function* exposition(families: readonly MetricFamily[], chunkSize = 1 << 16): Generator<string> {
  let chunk = ''
  for (const f of families) {
    const name = f.type === 'counter' ? `${f.name}_total` : f.name
    chunk += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`
    // No destructuring of label pairs: it costs an iterator per pair.
    for (const s of f.samples) {
      let line = s.name
      if (s.labels.length > 0) {
        let sep = '{'
        for (const pair of sortedLabels(s.labels)) {
          line += sep + pair[0] + '="' + escapeLabelValue(pair[1]) + '"'
          sep = ','
        }
        line += '}'
      }
      chunk += line + ' ' + floatToGoString(s.value) + '\n'
      if (chunk.length >= chunkSize) {
        yield chunk
        chunk = ''
      }
    }
  }
  if (chunk) yield chunk
}

/** The whole exposition as one string, as prometheus_client.generate_latest returns it. */
export function generateLatest(families: readonly MetricFamily[]): string {
  return [...exposition(families)].join('')
}
