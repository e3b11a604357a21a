/**
 * Counts in messages, for every layer (ops build summary lines too):
 * thousands separators and a plural that agrees, `1 key`, `81,920 keys`.
 */
const GROUPED = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0})

/** A count with thousands separators: `45,542,428`. */
export function count(n: number): string {
  return Number.isFinite(n) ? GROUPED.format(n) : String(n)
}

/** `1 key`, `2 keys`, `81,920 keys` (a plural other than `+s` is given). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`
}
