/**
 * Wire compatibility, byte for byte: the operations of test/golden/wire-ops.json
 * replayed through our RedisValue must leave exactly the keys and field values
 * that the Python exporter left for the same operations (test/golden/wire.json,
 * made by scripts/gen_golden.py from the exporter's own code).
 */
import {readFileSync} from 'node:fs'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {scanKeys} from '../../src/redis/scan.js'
import {RedisStorageDict} from '../../src/storage/dict.js'
import {RedisValue} from '../../src/storage/value.js'
import {type RedisServer, startRedis} from '../helpers/redis-server.js'

interface Series {
  typ: string
  metric: string
  name: string
  labels: [string, string][]
  help: string
  mode: string
  ops: [string, ...(number | string)[]][]
}
interface Golden {
  pid: number
  cases: Record<string, {prefix: string; env: Record<string, string>; keys: Record<string, {fields: Record<string, string>; ttl: string}>}>
}

const ops = JSON.parse(readFileSync(new URL('../golden/wire-ops.json', import.meta.url), 'utf8')) as {pid: number; series: Series[]}
const golden = JSON.parse(readFileSync(new URL('../golden/wire.json', import.meta.url), 'utf8')) as Golden
const TIME = /^\d+\.\d+$/

const num = (v: number | string) =>
  typeof v === 'string'
    ? Number(
        v
          .replace(/^inf$/, 'Infinity')
          .replace(/^-inf$/, '-Infinity')
          .replace(/^nan$/, 'NaN'),
      )
    : v

async function replay(dict: RedisStorageDict) {
  for (const s of ops.series) {
    const v = await RedisValue.create(dict, {
      typ: s.typ,
      metricName: s.metric,
      name: s.name,
      labelnames: s.labels.map(([n]) => n),
      labelvalues: s.labels.map(([, x]) => x),
      help: s.help,
      multiprocessMode: s.mode,
    })
    for (const [op, ...args] of s.ops) {
      if (op === 'inc') await v.inc(num(args[0]))
      else if (op === 'dec') await v.dec(num(args[0]))
      else if (op === 'set') await v.set(num(args[0]), num(args[1]))
    }
  }
}

async function snapshot(redis: Redis, prefix: string) {
  const out: Record<string, {fields: Record<string, string>; ttl: string}> = {}
  const keys: string[] = []
  for await (const k of scanKeys(redis, {match: `${prefix}:*`})) keys.push(k)
  keys.sort()
  for (const key of keys) {
    const fields = await redis.hgetall(key)
    for (const f of ['created_at', 'updated_at']) {
      if (f in fields) {
        expect(fields[f]).toMatch(TIME)
        fields[f] = '<time>'
      }
    }
    out[key] = {fields, ttl: (await redis.ttl(key)) > 0 ? 'set' : 'none'}
  }
  return out
}

describe('wire compatibility with the Python exporter', () => {
  let server: RedisServer
  let redis: Redis
  beforeAll(async () => {
    server = await startRedis()
    redis = await server.client()
  })
  afterAll(async () => {
    redis.disconnect()
    await server.stop()
  })

  for (const [name, c] of Object.entries(golden.cases)) {
    it(`writes the exporter's keys and fields exactly (${name})`, async () => {
      const dict = new RedisStorageDict(redis, c.prefix, {
        pid: golden.pid,
        ttlSeconds: 300,
        ttlDisabled: c.env.REDIS_TTL_DISABLED === 'true',
      })
      await replay(dict)
      const ours = await snapshot(redis, c.prefix)
      expect(Object.keys(ours)).toEqual(Object.keys(c.keys).sort())
      expect(ours).toEqual(c.keys)
    })
  }

  it('golden data covers every gauge mode, specials and the bare-gauge artifact', () => {
    const keys = Object.keys(golden.cases.ttl.keys)
    for (const mode of ['all', 'liveall', 'sum', 'livesum', 'max', 'livemax', 'min', 'livemin', 'mostrecent', 'livemostrecent']) {
      expect(keys.some((k) => k.includes(`:gauge_${mode}:`))).toBe(true)
    }
    expect(keys.some((k) => k.includes(':gauge:'))).toBe(true)
    const values = Object.values(golden.cases.ttl.keys).map((k) => k.fields.value)
    for (const v of ['inf', '-inf', 'nan', '-0.0', '5e-324', '1e+300', '1e-05', '1e+16']) expect(values).toContain(v)
  })
})
