/**
 * Numbers, times and counts as a person reads them in a table or a message.
 * Only for human views: the exposition and JSON keep the exact values.
 */
import {pyFloatRepr} from '../metrics/pyfloat.js'

export {count, plural} from '../words.js'

const GROUPED = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0})

/**
 * A sample value that reads: `114` (not `114.0`), `45,542,428`, `0.25`,
 * `3.14159`, `4.55e7` beyond what grouping keeps readable, `+Inf`, `NaN`.
 * About six significant digits: the exact value is in --json and the exposition.
 */
export function value(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf'
  if (x === 0) return '0'
  const magnitude = Math.abs(x)
  if (magnitude >= 1e15 || magnitude < 1e-4) return scientific(x)
  if (Number.isInteger(x)) return GROUPED.format(x)
  const integerDigits = magnitude >= 1 ? Math.floor(Math.log10(magnitude)) + 1 : 0
  // A fraction keeps at least one digit, so 45,542,428.5 does not read as an integer.
  const fractionDigits = Math.max(1, 6 - integerDigits)
  const text = new Intl.NumberFormat('en-US', {maximumFractionDigits: fractionDigits}).format(x)
  // Rounded to zero (0.0000004 is caught above; this is belt and braces).
  return text === '0' || text === '-0' ? scientific(x) : text
}

/** `4.55e7`, `1.2e-5`: three significant digits, no `+`, no trailing zeros. */
function scientific(x: number): string {
  const [mantissa, exponent] = x.toExponential(2).split('e')
  return `${mantissa.replace(/\.?0+$/, '')}e${Number(exponent)}`
}

/** A duration in seconds as `45s`, `3m12s`, `2h5m`, `3d4h` (two units at most); `0.4s` under a second. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-'
  const sign = seconds < 0 ? '-' : ''
  const abs = Math.abs(seconds)
  if (abs > 0 && abs < 1) return `${sign}${abs.toFixed(1)}s`
  let s = Math.round(abs)
  if (s < 60) return `${sign}${s}s`
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`)
      s %= size
    }
  }
  return sign + parts.slice(0, 2).join('')
}

/** The largest time a JavaScript Date holds, in seconds (±8.64e12); further out, or not finite, is not a time. */
const MAX_DATE_SECONDS = 8.64e12

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/**
 * Seconds since the epoch as local time, `2026-12-03 07:03:12` (with
 * milliseconds when there are any), or the number the worker stored when no
 * date holds it (`inf`, `nan`, `10000000000000.0`): a worker's timestamp is
 * its own to write, and a view must show it, never fail on it.
 */
export function localTime(seconds: number): string {
  if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_DATE_SECONDS) return pyFloatRepr(seconds)
  const d = new Date(seconds * 1000)
  const ms = d.getMilliseconds()
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${ms ? `.${pad(ms, 3)}` : ''}`
}
