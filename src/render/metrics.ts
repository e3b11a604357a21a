/** Renderers for metric families: Prometheus text, JSON-safe data, and a table for people. */
import type {MetricFamily} from '../metrics/aggregate.js'
import {exposition} from '../metrics/exposition.js'
import {floatToGoString} from '../metrics/pyfloat.js'
import {SafeCell} from './safe-text.js'
import {renderTable} from './table.js'

export const DUMP_FORMATS = ['prometheus', 'json', 'table'] as const
export type DumpFormat = (typeof DUMP_FORMATS)[number]

export {exposition as prometheusChunks}

/** JSON cannot carry Inf or NaN: those become the strings Prometheus uses (`+Inf`, `-Inf`, `NaN`). */
export function jsonValue(x: number): number | string {
  return Number.isFinite(x) ? x : floatToGoString(x)
}

export interface JsonFamily {
  name: string
  type: string
  help: string
  mode?: string
  samples: {name: string; labels: Record<string, string>; value: number | string}[]
}

export function familiesToJson(families: readonly MetricFamily[]): JsonFamily[] {
  return families.map((f) => ({
    name: f.name,
    type: f.type,
    help: f.help,
    ...(f.mode ? {mode: f.mode} : {}),
    samples: f.samples.map((s) => ({name: s.name, labels: Object.fromEntries(s.labels), value: jsonValue(s.value)})),
  }))
}

export function renderFamiliesTable(families: readonly MetricFamily[], color: boolean): string {
  const rows = families.flatMap((f) =>
    f.samples.map((s) => [s.name, f.type === 'gauge' && f.mode ? `gauge (${f.mode})` : f.type, SafeCell.labels(s.labels), floatToGoString(s.value)]),
  )
  return renderTable(['sample', 'type', 'labels', 'value'], rows, {color})
}
