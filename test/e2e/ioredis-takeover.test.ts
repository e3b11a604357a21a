/**
 * The bulk-read lane (src/redis/lane.ts) lets ioredis open a connection and
 * then takes its socket: `Redis#stream`, ioredis's 'data' listener replaced by
 * ours, ioredis silent from then on, `disconnect()` still closing it. None of
 * that is ioredis's public contract, so package.json pins ioredis to the minor
 * these tests passed on, and these tests say loudly when a new ioredis breaks it.
 */
import {readFileSync} from 'node:fs'
import {Socket} from 'node:net'

import {describe, expect, it} from 'vitest'

import {loadConfig} from '../../src/config/load.js'
import {connectRedis, type Redis} from '../../src/redis/connect.js'
import {RawLane} from '../../src/redis/lane.js'
import {CommandWriter} from '../../src/redis/resp.js'
import {useRedis} from '../helpers/redis-server.js'

const HOW_TO_FIX = 'src/redis/lane.ts takes over the socket of a connection ioredis opened; check it against this ioredis and move the pin in package.json'

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {version: string; dependencies: Record<string, string>}

it('ioredis is pinned to a minor, and the installed ioredis is that minor', () => {
  const pinned = json('../../package.json').dependencies.ioredis
  const installed = json('../../node_modules/ioredis/package.json').version
  expect(pinned, `ioredis must be pinned as ~major.minor.patch: ${HOW_TO_FIX}`).toMatch(/^~\d+\.\d+\.\d+$/)
  const minor = (v: string) => v.replace(/^~/, '').split('.').slice(0, 2).join('.')
  expect(minor(installed), `ioredis ${installed} is installed, the lane was tested with ${pinned}: ${HOW_TO_FIX}`).toBe(minor(pinned))
})

describe('the lane takes over the socket of the connection ioredis opened', () => {
  const ctx = useRedis()

  it('one socket, our listener alone on it, every reply ours, and ioredis closes it without a word', async () => {
    // One server, so the connection is a plain Redis.
    const redis = (await connectRedis(loadConfig({...ctx.env, REDIS_DB: '3'}, {}).config)) as Redis
    // The connection the lane is opened on, seen from outside: RawLane keeps it private.
    const opened: Redis[] = []
    const duplicate = redis.duplicate.bind(redis)
    redis.duplicate = (...args: Parameters<Redis['duplicate']>) => {
      const dup = duplicate(...args)
      opened.push(dup)
      return dup
    }
    const errors: unknown[] = []
    try {
      const lane = await RawLane.open(redis)
      expect(opened, `RawLane.open no longer goes through Redis#duplicate: ${HOW_TO_FIX}`).toHaveLength(1)
      const [dup] = opened
      dup.on('error', (e) => errors.push(e))
      expect(dup.stream, `ioredis no longer exposes its socket as Redis#stream: ${HOW_TO_FIX}`).toBeInstanceOf(Socket)
      expect(dup.stream.listeners('data'), `ioredis reads the socket some other way than a 'data' listener: ${HOW_TO_FIX}`).toHaveLength(1)

      // The server sees the lane as ioredis set it up (name, db), and every reply comes to the lane in order:
      // had ioredis sent anything of its own, a reply would be out of place and the lane would fail.
      const w = new CommandWriter()
      w.command(2).arg('CLIENT').arg('INFO')
      for (let i = 0; i < 2000; i++) w.command(2).arg('ECHO').arg(`m${i}`)
      let info = ''
      const echoed: string[] = []
      await lane.request(w.take(), 2001, (r) => {
        r.bulk()
        if (info === '') info = r.text()
        else echoed.push(r.text())
      })
      expect(info).toMatch(/ name=redismp-read /)
      expect(info).toMatch(/ db=3 /)
      expect(echoed).toEqual(Array.from({length: 2000}, (_, i) => `m${i}`))
      expect(dup.status, 'ioredis took the lane for something other than a ready connection').toBe('ready')

      const ended = new Promise<void>((resolve) => dup.once('end', () => resolve()))
      lane.close()
      await ended
      expect(dup.stream.destroyed, `Redis#disconnect no longer closes the socket the lane took: ${HOW_TO_FIX}`).toBe(true)
      expect(errors, 'ioredis complained about the socket the lane took').toEqual([])
      // The connection the lane was opened beside is untouched.
      expect(await redis.ping()).toBe('PONG')
    } finally {
      redis.disconnect()
    }
  })
})
