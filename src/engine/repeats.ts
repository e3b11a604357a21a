/**
 * SCAN may return a key more than once (while the server rehashes), and a sum
 * must count it once: each series remembers the (pid, type) slots it has seen.
 */

/** A (pid, type) pair as one number: what tells a repeated key of a series from a new one. */
export const slotOf = (pid: number, typeIndex: number) => pid * 16 + typeIndex
/** A slot's pid and type, back again. */
export const slotPid = (slot: number) => Math.floor(slot / 16)
export const slotType = (slot: number) => slot % 16

/** Where a series keeps the (pid, type) slots SCAN has shown already. */
export interface SlotHolder {
  slots?: number[] | Set<number>
}

/**
 * Records a slot in its series' holder; true when SCAN showed it before: the
 * fallback of PidBits, a short list of small numbers per series (a Set past
 * 64 pids), a few bytes per key and no key string retained.
 */
function isRepeat(holder: SlotHolder, slot: number): boolean {
  if (inList(holder, slot)) return true
  const seen = holder.slots
  if (seen === undefined) holder.slots = [slot]
  else if (!Array.isArray(seen)) seen.add(slot)
  else if (seen.push(slot) > 64) holder.slots = new Set(seen)
  return false
}

/** Whether the holder's list (or Set) has the slot. */
function inList(holder: SlotHolder, slot: number): boolean {
  const seen = holder.slots
  return seen === undefined ? false : Array.isArray(seen) ? seen.includes(slot) : seen.has(slot)
}

/**
 * Where a series keeps its slots under PidBits: the pids seen under its first
 * type as bits (their numbers in the walk's PidBits), the rest as `slots`.
 */
export interface CompactSlotHolder extends SlotHolder {
  /** The type (TYPE_INFOS index) of the first key seen; -1 before any. */
  bitsType: number
  /** Bit n: the pid numbered n by PidBits was seen under bitsType. */
  bits: number
}

/** A holder that has seen nothing yet. */
export const newSlotHolder = (): CompactSlotHolder => ({bitsType: -1, bits: 0, slots: undefined})

/** Pids past this many take a slot in the holder's list, as before. */
const BIT_PIDS = 32

/**
 * isRepeat in a word per series: a series is nearly always one type, written
 * by a handful of pids that every series shares, so the walk numbers the pids
 * as it meets them and a series keeps one bit per pid. A list of 16 slots
 * cost ~200 bytes per series at a million keys (12 MB); a bit costs nothing
 * but the number (a Map of pids) kept once for the walk. Pids beyond the
 * first 32 met, and a second type of one series, fall back to the list.
 */
export class PidBits {
  private readonly numberOf = new Map<number, number>()
  private readonly pids: number[] = []

  /** True when SCAN showed this (pid, type) key of the series before; records it otherwise. */
  isRepeat(holder: CompactSlotHolder, pid: number, typeIndex: number): boolean {
    if (holder.bitsType === -1) holder.bitsType = typeIndex
    if (holder.bitsType === typeIndex) {
      let n = this.numberOf.get(pid)
      if (n === undefined) {
        n = this.pids.length
        this.numberOf.set(pid, n)
        this.pids.push(pid)
      }
      if (n < BIT_PIDS) {
        const bit = 1 << n
        if ((holder.bits & bit) !== 0) return true
        holder.bits |= bit
        return false
      }
    }
    return isRepeat(holder, slotOf(pid, typeIndex))
  }

  /** Whether SCAN has shown this (pid, type) key of the series; records nothing. */
  has(holder: CompactSlotHolder, pid: number, typeIndex: number): boolean {
    const n = holder.bitsType === typeIndex ? this.numberOf.get(pid) : undefined
    if (n !== undefined && n < BIT_PIDS) return (holder.bits & (1 << n)) !== 0
    return inList(holder, slotOf(pid, typeIndex))
  }

  /** Every slot (slotOf) the series has seen, in no particular order. */
  slotsOf(holder: CompactSlotHolder): number[] {
    const out: number[] = []
    for (let n = 0; n < BIT_PIDS && n < this.pids.length; n++) if ((holder.bits & (1 << n)) !== 0) out.push(slotOf(this.pids[n], holder.bitsType))
    if (holder.slots) out.push(...holder.slots)
    return out
  }
}
