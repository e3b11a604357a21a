/**
 * Bytes from Redis are data, never terminal control. Key names, label values
 * and help text are written by whoever can write to the Redis, so an ESC in
 * them could move the cursor, recolour the screen or, through OSC 52, write
 * to the reader's clipboard; a newline could forge a line of output. Every
 * human view shows such text through safeText, which makes each of those
 * characters visible as an escape instead.
 */

/**
 * What safeText escapes: C0 controls (ESC, CR, LF, BEL…), DEL and C1 controls
 * (U+009B is CSI on its own), lone surrogates, the bidirectional overrides and
 * isolates that can make text read in another order than it is stored (and so
 * disguise a key), the Unicode line and paragraph separators, and the
 * backslash itself, so that an escape on screen always means one character.
 */
const DISGUISING = String.raw`\x7f-\x9f\p{Cs}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069`
const NEEDS_ESCAPE = new RegExp(String.raw`[\\\x00-\x1f${DISGUISING}]`, 'u')
const NEEDS_ESCAPE_ALL = new RegExp(NEEDS_ESCAPE.source, 'gu')

const SHORT: Record<string, string> = {'\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t'}

function escapeOne(c: string): string {
  const short = SHORT[c]
  if (short) return short
  const code = c.charCodeAt(0)
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Text from Redis as a terminal may show it: `a\x1b[31mb` for ESC, `\n` for a newline, `\\` for a backslash. */
export function safeText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replaceAll(NEEDS_ESCAPE_ALL, escapeOne) : text
}

/** A label value in double quotes, escaped as safeText does and with `\"` for a quote: one pair can never look like two. */
export function quotedText(text: string): string {
  return `"${safeText(text).replaceAll('"', '\\"')}"`
}

/**
 * A cell a caller made safe itself (composite text such as `a="1" b="2"`,
 * whose parts went through safeText or quotedText one by one). Any other
 * string cell is escaped by the table as a whole.
 */
export class SafeCell {
  private constructor(readonly text: string) {}

  /** Label pairs as `name="value"`, names and values escaped. */
  static labels(labels: Iterable<readonly [string, string]>): SafeCell {
    let text = ''
    for (const [name, value] of labels) text += (text ? ' ' : '') + safeText(name) + '=' + quotedText(value)
    return new SafeCell(text)
  }
}

/**
 * Characters a line of line-oriented output cannot carry safely: those
 * safeText escapes, and anything `xargs` splits on or interprets (whitespace
 * of any kind, quotes, backslashes). A key that holds one is left out of
 * `keys`' line output rather than printed as something it is not: an escape
 * would name another key, and `keys | xargs redis-cli del` must never reach
 * a key outside the prefix.
 */
const LINE_UNSAFE = /[\s'"\\\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u

export function isLineSafe(text: string): boolean {
  return !LINE_UNSAFE.test(text)
}

/**
 * Text written whole (the Prometheus exposition, JSON) made safe for a
 * terminal: line breaks stay, every other character safeText escapes is
 * shown escaped. Only for a terminal: a pipe or a file gets the exact bytes.
 */
const TERMINAL_UNSAFE = new RegExp(String.raw`[\x00-\x09\x0b-\x1f${DISGUISING}]`, 'u')
const TERMINAL_UNSAFE_ALL = new RegExp(TERMINAL_UNSAFE.source, 'gu')

export function terminalText(text: string): string {
  return TERMINAL_UNSAFE.test(text) ? text.replaceAll(TERMINAL_UNSAFE_ALL, escapeOne) : text
}

/**
 * One line of a message on stderr (a warning, an error) that may quote a key
 * or a lock holder read from Redis: every character terminalText escapes, and
 * line breaks too, so a message stays one line. Backslashes stay as typed.
 */
const MESSAGE_UNSAFE = new RegExp(String.raw`[\x00-\x1f${DISGUISING}]`, 'u')
const MESSAGE_UNSAFE_ALL = new RegExp(MESSAGE_UNSAFE.source, 'gu')

export function messageText(text: string): string {
  return MESSAGE_UNSAFE.test(text) ? text.replaceAll(MESSAGE_UNSAFE_ALL, escapeOne) : text
}
