/** The pieces of `serve` that need no server: where it listens, gzip negotiation, when walks run. */
import {describe, expect, it} from 'vitest'

import {formatListen, loadListen, parseListen} from '../../src/config/listen.js'
import {acceptsGzip} from '../../src/ops/serve/index.js'
import type {WalkOutcome} from '../../src/ops/serve/outcome.js'
import {Refresher} from '../../src/ops/serve/refresher.js'

describe('listen address', () => {
  it('reads the sidecar variables, with --listen over both', () => {
    expect(loadListen({})).toEqual({host: undefined, port: 9091})
    expect(loadListen({PROMETHEUS_METRICS_PORT: '9200', PROMETHEUS_BIND_ADDRESS: '0.0.0.0'})).toEqual({host: '0.0.0.0', port: 9200})
    expect(loadListen({PROMETHEUS_METRICS_PORT: '9200'}, '127.0.0.1:9091')).toEqual({host: '127.0.0.1', port: 9091})
    expect(parseListen(':9091')).toEqual({host: undefined, port: 9091})
    expect(parseListen('[::1]:9091')).toEqual({host: '::1', port: 9091})
    expect(formatListen(parseListen('[::1]:9091'))).toBe('[::1]:9091')
    expect(formatListen({port: 9091})).toBe(':9091')
  })

  it('names the variable or flag a bad value came from', () => {
    expect(() => loadListen({PROMETHEUS_METRICS_PORT: '70000'})).toThrow('PROMETHEUS_METRICS_PORT: expected a port number from 1 to 65535, got "70000"')
    expect(() => loadListen({PROMETHEUS_BIND_ADDRESS: 'a b'})).toThrow(/^PROMETHEUS_BIND_ADDRESS: expected a host name or IP address/)
    expect(() => parseListen('127.0.0.1')).toThrow(/^--listen: expected HOST:PORT/)
    expect(() => parseListen('127.0.0.1:x')).toThrow('--listen: expected a port number from 1 to 65535, got "x"')
  })
})

describe('gzip negotiation', () => {
  it('gzip when the scraper accepts it, not when it refuses it with q=0', () => {
    expect(acceptsGzip('gzip')).toBe(true)
    expect(acceptsGzip('identity, gzip;q=0.5')).toBe(true)
    expect(acceptsGzip('*')).toBe(true)
    expect(acceptsGzip('gzip;q=0')).toBe(false)
    expect(acceptsGzip('deflate')).toBe(false)
    expect(acceptsGzip(undefined)).toBe(false)
  })
})

/** A walk source that records how many walks run at once; each walk ends when the test says. */
function fakeWalks() {
  const ends: (() => void)[] = []
  const state = {running: 0, most: 0, walks: 0}
  return {
    state,
    ends,
    source: {
      walk(): Promise<WalkOutcome> {
        state.walks++
        state.most = Math.max(state.most, ++state.running)
        return new Promise((resolve) =>
          ends.push(() => {
            state.running--
            resolve({ok: false, startedAt: 0, seconds: 0, connections: 0, operations: [], error: {name: 'X', message: String(state.walks)}})
          }),
        )
      },
    },
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5))

describe('refresher', () => {
  it('with an interval: one walk at a time, the next after the last ended; scrapes take the newest without waiting', async () => {
    const f = fakeWalks()
    const r = new Refresher(f.source, 1, () => undefined)
    r.start()
    const first = r.current()
    expect(f.state.walks).toBe(1)
    await tick()
    // The walk is slower than the interval: no second walk starts beside it.
    expect(f.state.walks).toBe(1)
    f.ends.shift()!()
    expect(await first).toMatchObject({error: {message: '1'}})
    await tick()
    expect(f.state.walks).toBe(2)
    // The second walk still runs: a scrape gets the first one's outcome at once.
    expect(await r.current()).toMatchObject({error: {message: '1'}})
    f.ends.shift()!()
    r.stop()
    await tick()
    expect(f.state.most).toBe(1)
  })

  it('with 0: a scrape starts a walk, scrapes during it share it', async () => {
    const f = fakeWalks()
    const r = new Refresher(f.source, 0, () => undefined)
    r.start()
    expect(f.state.walks).toBe(0)
    const scrapes = [r.current(), r.current(), r.current()]
    expect(f.state.walks).toBe(1)
    f.ends.shift()!()
    expect(new Set(await Promise.all(scrapes)).size).toBe(1)
    const later = r.current()
    expect(f.state.walks).toBe(2)
    f.ends.shift()!()
    await later
    expect(f.state.most).toBe(1)
  })
})
