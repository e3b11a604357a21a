/**
 * `redismp stats` and health's share of its verdicts, against a real
 * redis-server, on stores written through the library's RedisValue (the
 * exporter's write path). Every expected figure is computed here from the
 * writes themselves, never read back from the code under test.
 */
import {spawn} from 'node:child_process'

import stringWidth from 'string-width'
import {describe, expect, it} from 'vitest'

import {RedisStorageClient, RedisValue, type RedisValueParams} from '../../src/index.js'
import {health} from '../../src/ops/health.js'
import {stats, type StatsOptions} from '../../src/ops/stats/index.js'
import {judgeLabel, LabelValues, valueKind} from '../../src/ops/stats/labels.js'
import {WriterTracker} from '../../src/ops/stats/writers.js'
import {StatsCollector} from '../../src/ops/stats/collect.js'
import {buildReport} from '../../src/ops/stats/report.js'
import {BIN, runCli} from '../helpers/cli.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'

interface Write extends RedisValueParams {
  pid: number
  labels: Record<string, string>
}

const NOW = Date.now() / 1000

/** Writes each sample through RedisValue, as the exporter would, with the client's TTL. */
async function writeAll(client: RedisStorageClient, writes: Write[], amount = 1): Promise<void> {
  for (const w of writes) {
    const v = await RedisValue.create(client.dict({pid: w.pid}), w)
    await (w.typ === 'gauge' ? v.set(amount) : v.inc(amount))
  }
}

function sample(pid: number, typ: string, metricName: string, name: string, labels: Record<string, string>, mode?: string): Write {
  return {
    pid,
    typ,
    metricName,
    name,
    labels,
    labelnames: Object.keys(labels),
    labelvalues: Object.values(labels),
    help: `${metricName} help`,
    ...(mode ? {multiprocessMode: mode} : {}),
  }
}

const base = (prefix: string, extra: Partial<StatsOptions> = {}): StatsOptions => ({
  prefix,
  endpoint: 'test',
  samples: 5,
  exact: false,
  top: 1000,
  staleSeconds: 300,
  ...extra,
})

describe('label values and writers, judged without Redis', () => {
  it('tells timestamps, ids and durations from ordinary values', () => {
    expect(valueKind(String(Math.floor(NOW)), NOW)).toBe('timestamp')
    expect(valueKind(String(Math.floor(NOW * 1000)), NOW)).toBe('timestamp')
    expect(valueKind('1733212345.123', NOW)).toBe('timestamp')
    expect(valueKind('2026-12-03T07:00:00Z', NOW)).toBe('timestamp')
    expect(valueKind('123e4567-e89b-12d3-a456-426614174000', NOW)).toBe('id')
    expect(valueKind('9f86d081884c7d659a2feaa0c55ad015', NOW)).toBe('id')
    expect(valueKind('12345678', NOW)).toBe('id')
    expect(valueKind('0.0123', NOW)).toBe('duration')
    expect(valueKind('250ms', NOW)).toBe('duration')
    for (const plain of ['GET', '/api/v1/users', '200', '404', 'worker_3', 'deadbeef', '2024', 'us-east-1']) expect(valueKind(plain, NOW)).toBeUndefined()
  })

  it('a label is a suspect only with enough values of one kind, and never le or quantile', () => {
    const times = new LabelValues()
    const paths = new LabelValues()
    const les = new LabelValues()
    for (let i = 0; i < 12; i++) {
      times.add(String(Math.floor(NOW) - i), NOW)
      paths.add(`/api/item${i}`, NOW)
      les.add(`0.${i + 1}5`, NOW)
    }
    expect(judgeLabel('m', 'timestamp', times)).toMatchObject({kind: 'timestamp', values: 12, share: 1})
    expect(judgeLabel('m', 'path', paths)).toBeUndefined()
    expect(judgeLabel('m', 'le', les)).toBeUndefined()
    const few = new LabelValues()
    for (let i = 0; i < 5; i++) few.add(String(Math.floor(NOW) - i), NOW)
    expect(judgeLabel('m', 'timestamp', few)).toBeUndefined()
  })

  it('two values of a writer label under one pid: interleaved when their writes overlap, reused when one ended first', () => {
    const t = new WriterTracker()
    for (const pid of [1, 2, 3, 4])
      t.add(
        pid,
        [
          ['worker_id', `w${pid}`],
          ['method', 'GET'],
        ],
        100,
      )
    // pid 3 also carries writer w3b, whose writes span 90..110 around w3's 100: both alive at once.
    t.add(3, [['worker_id', 'w3b']], 90)
    t.add(3, [['worker_id', 'w3b']], 110)
    // pid 4's second writer began (200) after the first's last write (100): the pid was reused.
    t.add(4, [['worker_id', 'w4b']], 200)
    expect(t.writerLabels()).toEqual(['worker_id'])
    expect(t.collisions().map((c) => [c.pid, c.verdict])).toEqual([
      [3, 'interleaved'],
      [4, 'reused'],
    ])
  })
})

describe('findings from counted keys, without Redis', () => {
  it('names stale pids, a pid with many more series than the median, and keys without TTL', () => {
    const now = 1_800_000_000
    const c = new StatsCollector({nowSeconds: now, samples: 0, exact: false})
    const series = new Map<string, {folded?: {owner: object}}>()
    const key = (pid: number, i: number, updatedAt: number, pttl: number) => {
      const id = `s${i}`
      if (!series.has(id)) series.set(id, {})
      c.add({pid, type: 'counter', identity: {metricName: 'jobs', labels: [['n', id]]}, series: series.get(id)!, updatedAt, pttl, createdAt: now - 7200})
    }
    for (const pid of [1, 2, 3]) for (let i = 0; i < 5; i++) key(pid, i, now - 10, 200_000)
    for (let i = 0; i < 40; i++) key(4, 100 + i, now - 10, 200_000)
    key(5, 0, now - 3600, -1)
    const r = buildReport(c, {nowSeconds: now, samples: 0, exact: false, endpoint: 'x', prefix: 'p', top: 10, staleSeconds: 300, artifacts: 0, skipped: 0})
    expect(r.churn).toMatchObject({medianSeriesPerPid: 5, maxSeriesPerPid: 40, stalePids: [5], newSeriesLastHour: 0, seriesDated: 45})
    expect(r.churn.staleKeyShare).toBeCloseTo(1 / 56)
    expect(r.findings.map((f) => [f.kind, f.pid ?? f.metric ?? null])).toEqual([
      ['churn', 4],
      ['stale-pid', 5],
      ['no-ttl', null],
    ])
    expect(r.findings[1].message).toMatch(/^pid 5 has not written for 60m \(1 key, 1 without TTL\)/)
    expect(r.pids.find((p) => p.pid === 4)?.seriesVsMedian).toBe(8)
    // With REDIS_TTL_DISABLED, keys without TTL are what the exporter was told to write.
    const quiet = buildReport(c, {
      nowSeconds: now,
      samples: 0,
      exact: false,
      endpoint: 'x',
      prefix: 'p',
      top: 10,
      staleSeconds: 300,
      artifacts: 0,
      skipped: 0,
      ttlDisabled: true,
    })
    expect(quiet.findings.some((f) => f.kind === 'no-ttl')).toBe(false)
  })
})

describe('stats on a real redis-server', () => {
  const ctx = useRedis()
  const client = (prefix: string, ttlSeconds = 300) => new RedisStorageClient(ctx.redis, prefix, {ttlSeconds, ttlDisabled: false})

  it('counts series, keys, label values and per-pid keys as the writes say', async () => {
    const writes: Write[] = []
    const paths = ['/a', '/b', '/c', '/d', '/e']
    for (const pid of [101, 102, 103]) {
      paths.forEach((path, i) => {
        for (const method of ['GET', 'POST'])
          if ((i + pid) % 3 !== 0) writes.push(sample(pid, 'counter', 'http_requests', 'http_requests_total', {method, path}))
      })
      for (const le of ['0.1', '1.0', '+Inf'])
        if (pid !== 103) writes.push(sample(pid, 'histogram', 'latency_seconds', 'latency_seconds_bucket', {path: paths[pid % 5], le}))
      writes.push(sample(pid, 'histogram', 'latency_seconds', 'latency_seconds_sum', {path: paths[pid % 5]}))
      writes.push(sample(pid, 'gauge', 'workers_busy', 'workers_busy', {}, 'all'))
    }
    await writeAll(client('gt'), writes)

    // Ground truth from the writes.
    const seriesOf = (w: Write) => JSON.stringify([w.name, w.labels])
    const series = new Set(writes.map(seriesOf))
    const keys = new Set(writes.map((w) => `${w.pid} ${seriesOf(w)}`))
    const labelValues = new Map<string, Set<string>>()
    for (const s of series)
      for (const [n, v] of Object.entries(JSON.parse(s)[1] as Record<string, string>)) labelValues.set(n, (labelValues.get(n) ?? new Set()).add(v))
    const perFamily = (name: string) => ({
      series: new Set(writes.filter((w) => w.metricName === name).map(seriesOf)).size,
      keys: new Set(writes.filter((w) => w.metricName === name).map((w) => `${w.pid} ${seriesOf(w)}`)).size,
      pids: new Set(writes.filter((w) => w.metricName === name).map((w) => w.pid)).size,
    })
    const perPid = (pid: number) => writes.filter((w) => w.pid === pid).length

    const r = await stats(ctx.redis, base('gt'))
    expect(r.totals).toMatchObject({series: series.size, metricKeys: keys.size, families: 3, pids: 3})
    for (const name of ['http_requests', 'latency_seconds', 'workers_busy']) {
      expect(r.families.bySeries.find((f) => f.name === name)).toMatchObject(perFamily(name))
    }
    expect(Object.fromEntries(r.labels.byValues.map((l) => [l.name, l.values]))).toEqual(Object.fromEntries([...labelValues].map(([n, v]) => [n, v.size])))
    expect(Object.fromEntries(r.pids.map((p) => [p.pid, p.keys]))).toEqual({101: perPid(101), 102: perPid(102), 103: perPid(103)})
    const getSeries = [...series].filter((s) => (JSON.parse(s)[1] as Record<string, string>).method === 'GET').length
    expect(r.labels.pairs.find((p) => p.name === 'method' && p.value === 'GET')?.series).toBe(getSeries)
    // Everything was written just now, with the default TTL.
    expect(r.churn).toMatchObject({newSeriesLastHour: series.size, seriesDated: series.size, stalePids: []})
    expect(r.ttl.find((t) => t.type === 'counter')).toMatchObject({keys: writes.filter((w) => w.typ === 'counter').length, within1m: 0, withoutTtl: 0})
    expect(r.suspects).toEqual([])
    expect(r.findings).toEqual([])

    // --metric drills into one family; --json is the same data.
    const one = await stats(ctx.redis, base('gt', {metric: 'latency_*'}))
    expect(one.totals).toMatchObject({families: 1, series: perFamily('latency_seconds').series, metricKeys: perFamily('latency_seconds').keys})
    const cli = await runCli(['stats', '--json', '--top', '1000'], ctx.server.env({REDIS_KEY_PREFIX: 'gt'}))
    expect(cli.code).toBe(0)
    const json = JSON.parse(cli.stdout)
    expect(json.totals).toEqual({...r.totals, memoryBytes: json.totals.memoryBytes})
    expect(json.families.bySeries.map((f: {name: string}) => f.name)).toEqual(r.families.bySeries.map((f) => f.name))
  })

  it('ranks memory: the family with the big series dominates, and --exact equals MEMORY USAGE summed over every key', async () => {
    const writes: Write[] = []
    for (const pid of [301, 302]) {
      for (let i = 0; i < 30; i++) writes.push(sample(pid, 'counter', 'big_payload', 'big_payload_total', {blob: `${i}-${'x'.repeat(400)}`}))
      for (let i = 0; i < 10; i++) writes.push(sample(pid, 'counter', 'small', 'small_total', {k: String(i)}))
    }
    await writeAll(client('mem'), writes)
    const sampled = await stats(ctx.redis, base('mem', {samples: 3}))
    expect(sampled.families.byMemory.map((f) => f.name)).toEqual(['big_payload', 'small'])
    expect(sampled.families.byMemory[0].memoryShare).toBeGreaterThan(0.7)
    expect(sampled.memory.sampledKeys).toBe(6)

    const exact = await stats(ctx.redis, base('mem', {exact: true}))
    let total = 0
    for (const key of await scanAll(ctx.redis, 'mem:*')) total += Number(await ctx.redis.call('MEMORY', 'USAGE', key))
    expect(exact.totals.memoryBytes).toBe(total)
    expect(exact.families.byMemory[0].name).toBe('big_payload')
  })

  it('flags a label whose values are timestamps, and not an ordinary one; health --strict exits 6 on it', async () => {
    const writes: Write[] = []
    for (let i = 0; i < 15; i++) {
      writes.push(sample(401, 'gauge', 'worker_state', 'worker_state', {state: 'running', timestamp: String(Math.floor(NOW) - i)}, 'all'))
      writes.push(sample(401, 'counter', 'requests', 'requests_total', {path: `/api/item${i}`}))
    }
    await writeAll(client('card'), writes)
    const r = await stats(ctx.redis, base('card'))
    expect(r.suspects.map((s) => [s.metric, s.label, s.kind, s.values])).toEqual([['worker_state', 'timestamp', 'timestamp', 15]])
    const finding = r.findings.find((f) => f.kind === 'cardinality')
    expect(finding?.metric).toBe('worker_state')
    expect(finding?.message).toMatch(/^worker_state: label "timestamp" has 15 distinct values, 100% of them look like timestamps/)

    const h = await health(ctx.redis, {prefix: 'card', endpoint: 'test', pingSamples: 1})
    expect(h.warnings.filter((w) => /distinct values/.test(w))).toEqual([finding!.message])
    const strict = await runCli(['health', '--strict', '--pings', '1'], ctx.server.env({REDIS_KEY_PREFIX: 'card'}))
    expect(strict.code).toBe(6)
    expect(strict.stderr).toMatch(/worker_state: label "timestamp"/)
  })

  it('reports counters and histograms whose TTL is under a minute, not gauges; health warns of them', async () => {
    const soon = client('ttl', 30)
    const counters = [1, 2, 3].map((i) => sample(501, 'counter', 'jobs', 'jobs_total', {queue: `q${i}`}))
    const buckets = ['1.0', '+Inf'].map((le) => sample(501, 'histogram', 'wait_seconds', 'wait_seconds_bucket', {le}))
    const gauge = sample(501, 'gauge', 'queue_depth', 'queue_depth', {}, 'all')
    await writeAll(soon, [...counters, ...buckets, gauge])
    await writeAll(client('ttl'), [sample(502, 'counter', 'jobs', 'jobs_total', {queue: 'q1'})])
    const r = await stats(ctx.redis, base('ttl'))
    expect(r.ttl.find((t) => t.type === 'counter')).toMatchObject({keys: 4, within1m: 3, within5m: 4})
    expect(r.ttl.find((t) => t.type === 'histogram')).toMatchObject({keys: 2, within1m: 2})
    expect(r.ttl.find((t) => t.type === 'gauge')).toMatchObject({keys: 1, within1m: 1})
    const expiring = r.findings.filter((f) => f.kind === 'expiring-counters')
    expect(expiring.map((f) => f.metric)).toEqual(['jobs', 'wait_seconds'])
    expect(expiring[0].message).toMatch(/^counter jobs: 3 of 4 keys expire within a minute/)

    const h = await health(ctx.redis, {prefix: 'ttl', endpoint: 'test', pingSamples: 1})
    expect(h.warnings.filter((w) => /expire within a minute/.test(w))).toEqual(expiring.map((f) => f.message))
  })

  it('tells a pid shared by two writers from one reused after a restart', async () => {
    const c = client('wr')
    const w = (pid: number, worker: string, path: string) => sample(pid, 'counter', 'req', 'req_total', {worker_id: worker, path})
    await writeAll(c, [w(601, 'a', '/x'), w(602, 'b', '/x'), w(603, 'c', '/x'), w(604, 'd', '/x')])
    // pid 603: writer c2 writes between two writes of c (interleaved); pid 604: d stopped, then d2 began (reused).
    await writeAll(c, [w(603, 'c2', '/x'), w(603, 'c', '/y'), w(604, 'd2', '/x'), w(604, 'd2', '/y')])
    const r = await stats(ctx.redis, base('wr'))
    expect(r.collisions.map((x) => [x.pid, x.label, x.verdict])).toEqual([
      [603, 'worker_id', 'interleaved'],
      [604, 'worker_id', 'reused'],
    ])
    expect(r.findings.filter((f) => f.kind === 'pid-collision').map((f) => f.pid)).toEqual([603, 604])
  })

  it('fits 80 columns on a real terminal', async () => {
    const writes: Write[] = []
    for (const pid of [701, 702, 703]) {
      for (let i = 0; i < 12; i++)
        writes.push(
          sample(
            pid,
            'counter',
            `a_really_long_metric_family_name_that_goes_on_and_on_${i % 3}`,
            `a_really_long_metric_family_name_that_goes_on_and_on_${i % 3}_total`,
            {path: `/a/very/long/path/that/does/not/fit/${'seg/'.repeat(10)}${i}`},
          ),
        )
    }
    // Bytes from Redis are shown escaped, never sent to the terminal raw.
    writes.push(sample(701, 'counter', 'evil', 'evil_total', {path: '/x\x1b[31mred'}))
    await writeAll(client('tty'), writes)
    const env = {...ctx.server.env({REDIS_KEY_PREFIX: 'tty'}), NO_COLOR: '1', PATH: process.env.PATH ?? ''}
    const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`)
    const command = `stty cols 80 rows 50; env -u COLUMNS ${assignments.join(' ')} '${process.execPath}' '${BIN}' stats --top 50`
    const screen = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], {stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      const timer = setTimeout(() => reject(new Error(`stats on a terminal did not finish: ${out}`)), 30_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        if (code === 0) resolve(out)
        else reject(new Error(`exit ${code}: ${out}`))
      })
    })
    const lines = screen.replaceAll('\r', '').split('\n')
    expect(lines.some((l) => l.startsWith('FAMILIES BY MEMORY'))).toBe(true)
    expect(lines.some((l) => /█/.test(l))).toBe(true)
    expect(lines.some((l) => /a_really_long.*…/.test(l))).toBe(true)
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(80)
    expect(screen).toContain('\\x1b[31mred')
    expect(screen).not.toContain('\x1b[31mred')
  })
})
