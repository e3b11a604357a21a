/**
 * When walks happen, and which one a scrape is answered from. With an
 * interval, a walk runs in the background, the next one starting `interval`
 * after the last one finished (never two at once, never a queue of them), and
 * a scrape takes the newest complete outcome without waiting (only the very
 * first scrape waits for the first walk). With interval 0 a scrape starts a
 * walk, and scrapes that come while it runs share it.
 */
import type {WalkOutcome} from './outcome.js'

export interface WalkSource {
  walk(): Promise<WalkOutcome>
}

export class Refresher {
  private newest?: WalkOutcome
  private running?: Promise<WalkOutcome>
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor(
    private readonly walker: WalkSource,
    private readonly intervalMs: number,
    private readonly onOutcome: (outcome: WalkOutcome) => void,
  ) {}

  start(): void {
    if (this.intervalMs > 0) this.cycle()
  }

  /** The outcome a scrape is answered from. */
  current(): Promise<WalkOutcome> {
    if (this.intervalMs === 0 || !this.newest) return this.walkNow()
    return Promise.resolve(this.newest)
  }

  /** The walk in progress, if any (shutdown lets it finish while it can). */
  inProgress(): Promise<WalkOutcome> | undefined {
    return this.running
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  private cycle(): void {
    // The next walk is scheduled however this one ended: the schedule never stops by itself.
    void this.walkNow()
      .catch(() => undefined)
      .then(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.cycle(), this.intervalMs)
      })
  }

  private walkNow(): Promise<WalkOutcome> {
    this.running ??= this.walker
      .walk()
      .then((outcome) => {
        this.newest = outcome
        this.onOutcome(outcome)
        return outcome
      })
      .finally(() => (this.running = undefined))
    return this.running
  }
}
