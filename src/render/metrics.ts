/** Renderers for metric families: Prometheus text, JSON-safe data, and a table for people. */
import type {MetricFamily} from '../metrics/aggregate.js'

import {floatToGoString} from '../metrics/pyfloat.js'
import {SafeCell} from './safe-text.js'
import {value as humanValue} from './human.js'
import {type Column, renderTable} from './table.js'

export const DUMP_FORMATS = ['prometheus', 'json', 'table', 'wide'] as const
export type DumpFormat = (typeof DUMP_FORMATS)[number]

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

const FAMILY_COLUMNS: Column[] = [
  {head: 'sample', shrink: true},
  {head: 'type', wide: true},
  {head: 'labels', shrink: true},
  {head: 'value', align: 'right'},
]

/** Samples for people: values rounded to read (`45,542,428`, `4.55e7`), the type in the wide view. */
export function renderFamiliesTable(families: readonly MetricFamily[], options: {color?: boolean; wide?: boolean} = {}): string {
  const rows = families.flatMap((f) =>
    f.samples.map((s) => [s.name, f.type === 'gauge' && f.mode ? `gauge (${f.mode})` : f.type, SafeCell.labels(s.labels), humanValue(s.value)]),
  )
  return renderTable(FAMILY_COLUMNS, rows, options)
}

export {exposition as prometheusChunks} from '../metrics/exposition.js'
