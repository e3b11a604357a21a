/**
 * Two writers under one pid. The key format has no host field, so a pid
 * reused after a restart, or the same pid on two hosts (or two containers,
 * whose pids all start low) sharing one Redis, writes into the same keys.
 * Where the two write different series, one label usually tells them apart:
 * a label that names the writer (the exporter's `worker_id`, a `hostname`,
 * an `instance`) holds one value in every pid, a different value in each.
 *
 * How it is judged (pure; fed one metric key at a time, memory per pid and
 * label name, at most MAX_TRACKED values each):
 * - a writer label is one that at least two pids carry, where no value is
 *   held by two pids (each names one writer) and no pid holds more than
 *   MAX_TRACKED values (a label that grows per pid names no writer). Two
 *   hosts running the same app collide on most pids (containers number
 *   theirs from 1), so pids with several values may be the majority;
 * - a pid holding two or more values of a writer label had two writers;
 * - each value's keys span the updated_at range [oldest, newest]: when the
 *   two ranges overlap, the writes interleave (two hosts or containers with
 *   the same pid, both alive); when one ends before the other begins, the pid
 *   was reused after its first owner stopped.
 * A store whose writers collide on identical series (same labels, no writer
 * label) cannot be told apart from one writer: the keys are the same keys.
 */

/** Values of one label kept per pid: enough to see "more than one". */
const MAX_TRACKED = 4

class Track {
  readonly values: string[] = []
  readonly oldest: number[] = []
  readonly newest: number[] = []
  /** More distinct values than tracked. */
  more = false

  add(value: string, written: number): void {
    let i = this.values.indexOf(value)
    if (i < 0) {
      if (this.values.length === MAX_TRACKED) return void (this.more = true)
      i = this.values.push(value) - 1
      this.oldest.push(Number.POSITIVE_INFINITY)
      this.newest.push(Number.NEGATIVE_INFINITY)
    }
    if (Number.isFinite(written)) {
      if (written < this.oldest[i]) this.oldest[i] = written
      if (written > this.newest[i]) this.newest[i] = written
    }
  }
}

export interface WriterValue {
  value: string
  /** Oldest and newest updated_at among the pid's keys with this value; null when none had one. */
  oldestWrite: number | null
  newestWrite: number | null
}

export interface Collision {
  pid: number
  label: string
  values: WriterValue[]
  /** `interleaved`: both wrote within each other's span (two hosts or containers); `reused`: one stopped before the other began. */
  verdict: 'interleaved' | 'reused'
}

export class WriterTracker {
  /** pid -> label name -> values seen. */
  private readonly pids = new Map<number, Map<string, Track>>()

  /** One metric key: its pid, its series' labels, its updated_at (NaN when unknown). */
  add(pid: number, labels: readonly (readonly [string, string])[], written: number): void {
    let byLabel = this.pids.get(pid)
    if (!byLabel) this.pids.set(pid, (byLabel = new Map()))
    for (const [name, value] of labels) {
      let t = byLabel.get(name)
      if (!t) byLabel.set(name, (t = new Track()))
      t.add(value, written)
    }
  }

  /** The labels that name a writer (see the module comment). */
  writerLabels(): string[] {
    const stats = new Map<string, {pids: number; more: boolean; owners: Map<string, number>}>()
    for (const byLabel of this.pids.values()) {
      for (const [name, t] of byLabel) {
        let s = stats.get(name)
        if (!s) stats.set(name, (s = {pids: 0, more: false, owners: new Map()}))
        s.pids++
        s.more ||= t.more
        for (const v of t.values) s.owners.set(v, (s.owners.get(v) ?? 0) + 1)
      }
    }
    return [...stats]
      .filter(([, s]) => s.pids >= 2 && !s.more && [...s.owners.values()].every((n) => n === 1))
      .map(([name]) => name)
      .sort()
  }

  collisions(): Collision[] {
    const out: Collision[] = []
    const labels = this.writerLabels()
    for (const [pid, byLabel] of [...this.pids].sort((a, b) => a[0] - b[0])) {
      for (const label of labels) {
        const t = byLabel.get(label)
        if (!t || t.values.length < 2) continue
        const values = t.values.map((value, i) => ({
          value,
          oldestWrite: Number.isFinite(t.oldest[i]) ? t.oldest[i] : null,
          newestWrite: Number.isFinite(t.newest[i]) ? t.newest[i] : null,
        }))
        // Oldest writer first, whatever order SCAN showed them in.
        values.sort((a, b) => (a.oldestWrite ?? Infinity) - (b.oldestWrite ?? Infinity) || (a.value < b.value ? -1 : 1))
        out.push({pid, label, values, verdict: interleave(values) ? 'interleaved' : 'reused'})
        break
      }
    }
    return out
  }
}

/** Whether any two writers' spans of writes overlap (unknown spans count as overlapping: nothing shows they took turns). */
function interleave(values: WriterValue[]): boolean {
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) {
      const a = values[i]
      const b = values[j]
      if (a.oldestWrite === null || b.oldestWrite === null) return true
      if (a.oldestWrite <= b.newestWrite! && b.oldestWrite <= a.newestWrite!) return true
    }
  }
  return false
}

export function describeCollision(c: Collision): string {
  const values = c.values.map((v) => `${c.label}=${JSON.stringify(v.value)}`).join(' and ')
  return c.verdict === 'interleaved'
    ? `pid ${c.pid}: two writers interleave (${values} both wrote within each other's span): two hosts or containers share this pid in one Redis, and their keys mix`
    : `pid ${c.pid}: reused (${values} wrote one after the other): a new process got the pid of one that stopped; the old one's series stay until they expire`
}
