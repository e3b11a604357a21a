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
  // Where both print positional notation, JavaScript's shortest digits are Python's too.
  const abs = Math.abs(x)
  if (abs >= 1e-4 && abs < 1e16) return Number.isInteger(x) ? `${x}.0` : String(x)
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

/** Powers of ten that doubles hold exactly: a product or quotient with one is correctly rounded. */
const EXACT_POW10 = Array.from({length: 23}, (_, i) => 10 ** i)

/**
 * parsePyFloat on UTF-8 bytes, without making a string for what repr()
 * writes for everyday values: `[-]digits[.digits]` with at most 15
 * significant digits is an exact integer over an exact power of ten, and one
 * IEEE division of those is the correctly rounded result (Clinger's fast
 * path). Everything else (exponents, inf, nan, long digit runs) goes through
 * the text parser.
 */
export function parsePyFloatBytes(buf: Uint8Array, start: number, end: number): number | undefined {
  let p = start
  const negative = buf[p] === 0x2d
  if (negative) p++
  let mantissa = 0
  let digits = 0
  let fraction = -1
  for (; p < end; p++) {
    const c = buf[p]
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30)
      digits++
    } else if (c === 0x2e && fraction < 0 && digits > 0) fraction = digits
    else break
  }
  if (p === end && digits > 0 && digits <= 15 && fraction !== digits) {
    const scale = fraction < 0 ? 0 : digits - fraction
    const value = scale === 0 ? mantissa : mantissa / EXACT_POW10[scale]
    return negative ? -value : value
  }
  return parsePyFloat(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'))
}
