/**
 * The HTTP side of `serve`: /metrics (the store's exposition, made once per
 * walk and gzipped once, then the self-metrics made per scrape), /healthz
 * (this process answers) and /readyz (Redis answers).
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {gzipSync} from 'node:zlib'

import type {WalkOutcome} from './outcome.js'

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export interface Routes {
  /** The outcome to answer /metrics from (may wait for a walk). */
  outcome(): Promise<WalkOutcome>
  /** The self-metrics, leaving out the families the store's part names. */
  selfMetrics(storeFamilies: ReadonlySet<string>): Promise<string>
  /** Undefined when Redis answers, else why not. */
  redisProblem(): Promise<string | undefined>
  /** Once true, responses ask the client to close its connection. */
  closing(): boolean
}

/** Whether the client takes gzip (`Accept-Encoding: gzip`, not `gzip;q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') return false
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
    return q === undefined || Number(q) > 0
  })
}

const familySets = new WeakMap<WalkOutcome, ReadonlySet<string>>()
const NONE: ReadonlySet<string> = new Set()

function storeFamilies(o: WalkOutcome): ReadonlySet<string> {
  if (!o.ok) return NONE
  let set = familySets.get(o)
  if (!set) familySets.set(o, (set = new Set(o.families)))
  return set
}

/** The self-metrics' bytes and their gzip, made again only when the text changed (scrapes share a reading: self-metrics.ts). */
class SelfBytes {
  private text = ''
  private plain = Buffer.alloc(0)
  private zipped?: Buffer
  of(text: string, gzip: boolean): Buffer {
    if (text !== this.text) [this.text, this.plain, this.zipped] = [text, Buffer.from(text), undefined]
    if (!gzip) return this.plain
    return (this.zipped ??= gzipSync(this.plain))
  }
}

export function handler(routes: Routes): (req: IncomingMessage, res: ServerResponse) => void {
  const self = new SelfBytes()
  return (req, res) => {
    void answer(routes, self, req, res).catch((error) => {
      // A bug of ours, or the client left: one plain 500, never a stack to the scraper.
      if (res.headersSent) {
        res.destroy()
      } else {
        send(res, 500, `internal error: ${String((error as Error)?.message ?? error)}\n`, routes)
      }
    })
  }
}

async function answer(routes: Routes, self: SelfBytes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD')
    return send(res, 405, 'method not allowed: use GET\n', routes)
  }
  if (path === '/healthz') return send(res, 200, 'ok\n', routes)
  if (path === '/readyz') {
    const problem = await routes.redisProblem()
    return problem === undefined ? send(res, 200, 'ok\n', routes) : send(res, 503, `redis: ${problem}\n`, routes)
  }
  if (path === '/metrics') return metrics(routes, self, req, res)
  if (path === '/') return send(res, 200, 'redismp serve: /metrics, /healthz, /readyz\n', routes)
  return send(res, 404, 'not found: /metrics, /healthz, /readyz\n', routes)
}

async function metrics(routes: Routes, selfBytes: SelfBytes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const outcome = await routes.outcome()
  const gzip = acceptsGzip(req.headers['accept-encoding'])
  const self = selfBytes.of(await routes.selfMetrics(storeFamilies(outcome)), gzip)
  // Two gzip members in a row are one valid gzip stream (RFC 1952): the store's, made once per walk, then the self-metrics'.
  const parts = [outcome.ok ? (gzip ? outcome.gzip : outcome.body) : undefined, self]
  const body = parts.filter((p): p is Uint8Array => p !== undefined)
  res.statusCode = 200
  res.setHeader('Content-Type', EXPOSITION_CONTENT_TYPE)
  if (gzip) res.setHeader('Content-Encoding', 'gzip')
  res.setHeader('Vary', 'Accept-Encoding')
  res.setHeader(
    'Content-Length',
    body.reduce((n, p) => n + p.byteLength, 0),
  )
  if (routes.closing()) res.setHeader('Connection', 'close')
  if (req.method === 'HEAD') return void res.end()
  for (const p of body.slice(0, -1)) res.write(p)
  res.end(body.at(-1))
}

function send(res: ServerResponse, status: number, text: string, routes: Routes): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  if (routes.closing()) res.setHeader('Connection', 'close')
  res.end(res.req.method === 'HEAD' ? undefined : text)
}
