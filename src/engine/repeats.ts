/**
 * SCAN may return a key more than once (while the server rehashes), and a sum
 * must count it once: each series remembers the (pid, type) slots it has seen.
 */

/** A (pid, type) pair as one number: what tells a repeated key of a series from a new one. */
export const slotOf = (pid: number, typeIndex: number) => pid * 16 + typeIndex

/** Where a series keeps the (pid, type) slots SCAN has shown already. */
export interface SlotHolder {
  slots?: number[] | Set<number>
}

/**
 * Records a slot in its series' holder; true when SCAN showed it before. SCAN
 * may return a key twice while the server rehashes, and a sum must count it
 * once. A short list of small numbers per series (a Set past 64 pids): a few
 * bytes per key, and no key string retained.
 */
export function isRepeat(holder: SlotHolder, slot: number): boolean {
  const seen = holder.slots
  if (seen === undefined) {
    holder.slots = [slot]
    return false
  }
  if (Array.isArray(seen)) {
    if (seen.includes(slot)) return true
    seen.push(slot)
    if (seen.length > 64) holder.slots = new Set(seen)
    return false
  }
  if (seen.has(slot)) return true
  seen.add(slot)
  return false
}
