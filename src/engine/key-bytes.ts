/**
 * What a key of a SCAN reply is, read from its bytes: every walk over the
 * prefix (walk.ts for samples, fact-walk.ts for per-key facts) judges keys
 * here, so that "ours", "another application's" and "malformed" mean the
 * same in each. A plain key of ours is recognised without making a string;
 * anything else is judged as text by classifyFound, as health and keys judge it.
 */
import {type KeyKind, type KeyVerdict, TYPE_INDEX, TYPE_INFOS} from '../metrics/keys.js'
import type {ReplyCursor} from '../redis/resp.js'
import {classifyFound} from './keyspace.js'
import type {SeriesIndex} from './series-index.js'

/** What judge() found a key to be. */
export const Found = {
  Metric: 0,
  Meta: 1,
  /** Exporter-shaped, under a longer prefix: another application's. */
  OtherPrefix: 2,
  /** Under the prefix, but not of the schema. */
  Malformed: 3,
  /** redismp's own keys (the lock, the health probe): in no count. */
  Tool: 4,
} as const
export type Found = (typeof Found)[keyof typeof Found]

export const HASH_LENGTH = 32
/** `:metric:` or `:meta:` and the hash end every key of ours. */
const METRIC_TAIL = Buffer.from(':metric:')
const META_TAIL = Buffer.from(':meta:')

/** Type segments by byte length, to match a key's bytes without making a string. */
const TYPES_BY_LENGTH: [Buffer, number][][] = []
TYPE_INFOS.forEach((info, i) => (TYPES_BY_LENGTH[info.segment.length] ??= []).push([Buffer.from(info.segment), i]))

/** Whether `b` holds `bytes` at `at` (`at` may lie before the start of a short key: then it does not). */
function matchesAt(b: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at < 0) return false
  for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false
  return true
}

function typeIndexAt(b: Uint8Array, start: number, end: number): number | undefined {
  for (const [segment, index] of TYPES_BY_LENGTH[end - start] ?? []) {
    let i = 0
    while (i < segment.length && b[start + i] === segment[i]) i++
    if (i === segment.length) return index
  }
  return undefined
}

/**
 * Judges the keys of one walk. After judge() returns Metric or Meta, `pid`,
 * `typeIndex` and `series` (the key's number in the walk's SeriesIndex) are
 * the key's; a walk reads them before judging the next key.
 */
export class KeyJudge {
  pid = 0
  typeIndex = 0
  series = 0
  private readonly prefixBytes: Buffer

  constructor(
    private readonly prefix: string,
    private readonly index: SeriesIndex,
  ) {
    this.prefixBytes = Buffer.from(prefix + ':')
  }

  /** The key whose bulk string the cursor has just read. */
  judge(r: ReplyCursor): Found {
    const {buf, start, end} = r
    const fast = this.parseFast(buf, start, end)
    if (fast !== undefined) {
      this.series = this.index.idOf(buf, end - HASH_LENGTH)
      if (this.series >= 0) return fast
    }
    // Not a plain key of ours: judged as text.
    const v = judgeText(r.text(), this.prefix, this)
    if (v === undefined) return Found.Tool
    if (!v.ours) return v.reason === 'other-prefix' ? Found.OtherPrefix : Found.Malformed
    this.series = this.index.idOf(buf, end - HASH_LENGTH)
    return kindFound(v.parsed.kind)
  }
  private parseFast(b: Buffer, start: number, end: number): Found | undefined {
    return plainKeyAt(b, start, end, this.prefixBytes, this)
  }
}

/**
 * Type and pid of a plain key of ours (`{prefix}:{type}:{pid}:{kind}:{md5}`)
 * from its bytes, into `into`, or undefined for anything else (classifyFound
 * then judges it). `prefix` is the prefix's bytes with the `:` after it. The
 * md5 digits are not checked here (the series index or SeriesIndex.isHash does).
 */
export function plainKeyAt(b: Uint8Array, start: number, end: number, prefix: Uint8Array, into: {typeIndex: number; pid: number}): Found | undefined {
  let kind: Found = Found.Metric
  let tail = end - HASH_LENGTH - METRIC_TAIL.length
  if (!matchesAt(b, tail, METRIC_TAIL)) {
    kind = Found.Meta
    tail = end - HASH_LENGTH - META_TAIL.length
    if (!matchesAt(b, tail, META_TAIL)) return undefined
  }
  if (tail - start <= prefix.length + 2 || !matchesAt(b, start, prefix)) return undefined
  // The pid: 1 to 10 digits, no leading zero, right before `:metric:` (or `:meta:`).
  let p = tail - 1
  let pid = 0
  let scale = 1
  while (p > start && b[p] >= 0x30 && b[p] <= 0x39) {
    pid += (b[p] - 0x30) * scale
    scale *= 10
    p--
  }
  const digits = tail - 1 - p
  if (digits === 0 || digits > 10 || b[p + 1] === 0x30 || b[p] !== 0x3a) return undefined
  const typeIndex = typeIndexAt(b, start + prefix.length, p)
  if (typeIndex === undefined) return undefined
  into.typeIndex = typeIndex
  into.pid = pid
  return kind
}

/**
 * A key plainKeyAt did not take, judged as text (classifyFound, as health and
 * keys judge keys); for a key of ours, its type and pid go into `into` as
 * plainKeyAt puts them.
 */
export function judgeText(key: string, prefix: string, into: {typeIndex: number; pid: number}): KeyVerdict | undefined {
  const v = classifyFound(key, prefix)
  if (v?.ours) {
    into.typeIndex = TYPE_INDEX.get(v.parsed.typeSegment)!
    into.pid = v.parsed.pid
  }
  return v
}

export const kindFound = (kind: KeyKind): Found => (kind === 'metric' ? Found.Metric : Found.Meta)
