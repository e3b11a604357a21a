// A worker process for race tests: writes livesum gauges exactly as the
// exporter's write path does (RedisStorageDict.set, from the built library).
// stdin: a plan as one JSON line, [{pid, names, pauseMs}]; the writer connects,
// prints "ready", and starts at the next line ("go"), each step after its
// pause. Prints one line per step once its writes are acknowledged.
// A third argument `cluster` makes the port a seed node of a Redis Cluster.
import {createInterface} from 'node:readline'

import {Cluster, Redis} from 'ioredis'

import {originalKey, RedisStorageDict} from '../../dist/index.js'

const [port, prefix, mode] = process.argv.slice(2)
const lines = createInterface({input: process.stdin})[Symbol.asyncIterator]()
const plan = JSON.parse((await lines.next()).value)
const redis =
  mode === 'cluster'
    ? new Cluster([{port: Number(port), host: '127.0.0.1'}], {redisOptions: {maxRetriesPerRequest: 0}})
    : new Redis({port: Number(port), host: '127.0.0.1', maxRetriesPerRequest: 0})
await redis.ping()
process.stdout.write('ready\n')
await lines.next()
for (const step of plan) {
  await new Promise((r) => setTimeout(r, step.pauseMs))
  const dict = new RedisStorageDict(redis, prefix, {pid: step.pid})
  for (const name of step.names) await dict.set(originalKey(name, name, {}, ''), Math.random(), 0, 'gauge', 'livesum')
  process.stdout.write(`woke ${step.pid}\n`)
}
redis.disconnect()
process.exit(0)
