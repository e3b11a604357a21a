/** Durations as people type them in cron lines and flags: `500ms`, `90s`, `10m`, `2h`, `1d`, or bare seconds. */
const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/

/**
 * The longest delay a Node timer honours (2^31-1 ms, about 24.8 days): a
 * longer one fires after 1 ms, so a timeout beyond it would be no timeout at all.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Milliseconds, or undefined when the text is not a duration. Bare numbers
 * are seconds unless `requireUnit`: where a duration decides what is deleted,
 * `--stale 10` is more likely ten minutes meant than ten seconds.
 */
export function parseDuration(text: string, options: {requireUnit?: boolean} = {}): number | undefined {
  const m = DURATION.exec(text.trim())
  if (!m || (options.requireUnit && m[2] === undefined)) return undefined
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's'])
}
