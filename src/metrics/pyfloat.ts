/**
 * Python float text, as the exporter writes it and prometheus_client prints it.
 *
 * redis-py stores floats as `repr(float)`; prometheus_client prints them with
 * `floatToGoString`. JavaScript's `Number#toString` picks the same shortest
 * round-trip digits as Python's repr, but places the exponent differently and
 * spells the specials differently, so both are rebuilt from those digits here.
 */

/** Shortest round-trip digits and decimal exponent: 1234.5 -> {digits: "12345", exp: 3}. */
function shortestDigits(abs: number): {digits: string; exp: number} {
  const [mantissa, exponent] = abs.toExponential().split('e')
  return {digits: mantissa.replace('.', ''), exp: Number(exponent)}
}

/** Python `repr(float)`: `1.0`, `0.1`, `1e-05`, `1e+16`, `inf`, `-inf`, `nan`, `-0.0`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  const sign = x < 0 || Object.is(x, -0) ? '-' : ''
  if (x === 0) return `${sign}0.0`
  const {digits, exp} = shortestDigits(Math.abs(x))
  const decpt = exp + 1 // position of the decimal point relative to the digits
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`
    if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  }
  const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`
  const expSign = exp < 0 ? '-' : '+'
  return `${sign}${mantissa}e${expSign}${String(Math.abs(exp)).padStart(2, '0')}`
}

/** prometheus_client `floatToGoString`: `+Inf`, `-Inf`, `NaN`, `1e+06` for large le/quantile values. */
export function floatToGoString(x: number): string {
  if (x === Infinity) return '+Inf'
  if (x === -Infinity) return '-Inf'
  if (Number.isNaN(x)) return 'NaN'
  const s = pyFloatRepr(x)
  const dot = s.indexOf('.')
  // Go switches to exponents sooner than Python; prometheus_client mimics that for positives.
  if (x > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '')
    return `${mantissa}e+0${dot - 1}`
  }
  return s
}

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*|\d(?:_?\d)*\.)(?:[eE][+-]?\d(?:_?\d)*)?$/
const PY_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i

/**
 * Python `float(text)`: what the exporter reads back. Returns undefined for text
 * Python would reject, so callers can count it as foreign data instead of crashing.
 */
const PY_REPR = /^-?\d+\.\d+(?:e[+-]\d+)?$|^-?\de[+-]\d+$/

export function parsePyFloat(text: string): number | undefined {
  // Fast path: what repr() writes, i.e. nearly every stored value.
  if (PY_REPR.test(text)) return Number(text)
  const t = text.trim()
  const special = PY_SPECIAL.exec(t)
  if (special) {
    if (special[2].toLowerCase() === 'nan') return Number.NaN
    return special[1] === '-' ? -Infinity : Infinity
  }
  if (!PY_FLOAT.test(t)) return undefined
  return Number(t.replaceAll('_', ''))
}
