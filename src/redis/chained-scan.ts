/**
 * A SCAN on a read lane whose replies chain: each reply sends the next SCAN
 * before its keys are handled, so Redis has the next thing to do while we
 * work, and requests a handler makes (reads of the keys) queue behind it.
 * run() ends when the cursor is back at 0 and every tracked request is done.
 */
import type {RawLane} from './lane.js'
import {ReplyError} from './lane.js'
import {CommandWriter, type ReplyCursor} from './resp.js'

/** `SCAN cursor MATCH match COUNT count`, written to `w`. */
export function writeScan(w: CommandWriter, cursor: string, match: string, count: number): CommandWriter {
  return w.command(6).arg('SCAN').arg(cursor).arg('MATCH').arg(match).arg('COUNT').arg(String(count))
}

/** A SCAN reply's next cursor; `r` is left at the header of its key array. An error reply ends the walk. */
export function scanCursor(r: ReplyCursor): string {
  if (r.type === 0x2d) throw new ReplyError(r.line())
  r.count() // [cursor, keys]
  r.bulk()
  return r.text()
}

export class ChainedScan {
  /** Requests not yet finished, oldest first; run() waits for each. */
  private readonly inFlight: Promise<void>[] = []
  private readonly writer = new CommandWriter(256)

  constructor(
    readonly lane: RawLane,
    private readonly match: string,
    private readonly count: number,
  ) {}

  /**
   * Walks the keyspace; `onKeys` gets each reply with the cursor `r` at the
   * header of its key array, and must read the array before it returns.
   */
  async run(onKeys: (r: ReplyCursor) => void): Promise<void> {
    this.scan('0', onKeys)
    for (let next = this.inFlight.shift(); next; next = this.inFlight.shift()) await next
  }

  /** Sends a request on the lane that run() must also wait for. */
  request(commands: Buffer, replies: number, onReply: (r: ReplyCursor) => void, onSent?: () => void): void {
    const request = this.lane.request(commands, replies, onReply, onSent)
    // Failures surface where run() awaits them, not as unhandled rejections meanwhile.
    request.catch(() => undefined)
    this.inFlight.push(request)
  }

  private scan(cursor: string, onKeys: (r: ReplyCursor) => void): void {
    this.request(writeScan(this.writer, cursor, this.match, this.count).take(), 1, (r) => {
      const next = scanCursor(r)
      if (next !== '0') this.scan(next, onKeys)
      onKeys(r)
    })
  }
}
