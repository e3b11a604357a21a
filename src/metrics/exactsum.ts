/**
 * An order-independent float sum. prometheus_client adds per-pid values one
 * by one in directory order, which is arbitrary, so the reference itself can
 * differ in the last bit between two scrapes. We keep the exact sum
 * (Shewchuk's partials, as Python's math.fsum) and round once: the result is
 * the naive sum whenever that is exact, and otherwise the correctly rounded
 * one — the same for any SCAN order, so two dumps are byte-identical.
 */
export class ExactSum {
  /** The one partial while one is enough, which is nearly always; then `partials` is undefined. */
  private hi = 0
  /** Shewchuk's partials, once a sum needs more than one. */
  private partials: number[] | undefined
  private special = 0 // running naive sum of non-finite terms: Inf, -Inf or NaN

  add(x: number): void {
    if (this.partials === undefined) {
      // Adding to a single partial loses nothing when TwoSum's error term is 0.
      const y = this.hi
      const hi = x + y
      const bv = hi - x
      if (Number.isFinite(hi) && x - (hi - bv) + (y - bv) === 0) {
        this.hi = hi
        return
      }
      this.partials = [y]
    }
    if (!Number.isFinite(x)) {
      this.special += x
      return
    }
    let i = 0
    for (let y of this.partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x]
      const hi = x + y
      if (!Number.isFinite(hi)) {
        // The exact sum left the float range: a naive sum overflows to the same ±inf.
        this.special += hi
        this.partials = []
        return
      }
      const lo = y - (hi - x)
      if (lo !== 0) this.partials[i++] = lo
      x = hi
    }
    this.partials.length = i
    this.partials.push(x)
  }

  /** The correctly rounded sum, started from +0.0 as Python's `defaultdict(float)` does. */
  value(): number {
    if (this.special !== 0 || Number.isNaN(this.special)) return this.special
    // One partial (nearly always): the loops below would return it as it is.
    if (this.partials === undefined) return 0 + this.hi
    const p = this.partials
    let n = p.length
    if (n === 0) return 0
    let hi = p[--n]
    let lo = 0
    while (n > 0) {
      const x = hi
      const y = p[--n]
      hi = x + y
      lo = y - (hi - x)
      if (lo !== 0) break
    }
    // Half-way case: round-half-even needs the sign of the remaining partials.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2
      const x = hi + y
      if (y === x - hi) hi = x
    }
    // Overflowing finite terms: Python's naive sum gives ±inf as well.
    return 0 + hi
  }
}
