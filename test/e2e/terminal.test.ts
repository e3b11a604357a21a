/**
 * What an 80-column terminal shows, on a real pseudo-terminal (util-linux
 * `script`, sized with stty): tables that fit, a rule under the header, long
 * cells shortened in the middle, -o wide for everything, keys capped at 1,000
 * with a progress line, pid's buckets cumulative with a _count row, numbers
 * that read, colour by NO_COLOR and FORCE_COLOR.
 */
import {spawn} from 'node:child_process'

import stringWidth from 'string-width'
import {beforeAll, describe, expect, it} from 'vitest'

import {clearProgress, progress} from '../../src/render/progress.js'
import {BIN, runCli} from '../helpers/cli.js'
import {useRedis} from '../helpers/redis-server.js'

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`

/** Runs the CLI on a terminal `cols` wide; returns the exit code, the raw screen and its visible lines. */
function onTerminal(args: string[], env: Record<string, string>, cols = 80): Promise<{code: number | null; raw: string; lines: string[]}> {
  const assignments = Object.entries({NO_COLOR: '1', ...env}).map(([k, v]) => `${k}=${quote(v)}`)
  const command = `stty cols ${cols} rows 50; env ${assignments.join(' ')} ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    let raw = ''
    // Decoded as a stream: a `…` split between two chunks must not become two replacement characters.
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (d) => (raw += d))
    child.stderr.on('data', (d) => (raw += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redismp ${args.join(' ')} on a terminal did not finish within 30 s`))
    }, 30_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, raw, lines: visibleLines(raw)})
    })
    child.stdin.end()
  })
}

/** What stays on screen: each line after its last carriage return (progress lines are rewritten), colours removed. */
function visibleLines(raw: string): string[] {
  return raw
    .split('\n')
    .map((line) =>
      line
        .replace(/\r$/, '')
        .split('\r')
        .at(-1)!
        .replaceAll(/\u001b\[[0-9;]*[A-Za-z]/g, ''),
    )
    .filter((line) => line !== '')
}

describe('on an 80-column terminal', () => {
  const ctx = useRedis()
  let totalKeys = 0
  beforeAll(async () => {
    expect((await runCli(['seed', '--pids', '4', '--series', '20'], ctx.env)).code).toBe(0)
    totalKeys = JSON.parse((await runCli(['keys', '--json'], ctx.env)).stdout).keys.length
    expect(totalKeys).toBeGreaterThan(1000)
  })

  const fits = (lines: string[], cols = 80) => {
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(cols)
  }

  it('keys: fits, a rule under the header, the first 1,000 and how many there are, a progress line on the way', async () => {
    const r = await onTerminal(['keys'], ctx.env)
    expect(r.code).toBe(0)
    fits(r.lines)
    expect(r.lines[0]).toMatch(/^key +type +pid +kind +ttl$/)
    expect(r.lines[1]).toMatch(/^-+( {2}-+){4}$/)
    const rows = r.lines.filter((l) => l.startsWith('gunicorn:'))
    expect(rows).toHaveLength(1000)
    // Keys are shortened in the middle: the start and the hash's end stay.
    expect(rows.some((l) => /^gunicorn:\S*…[0-9a-f]+ /.test(l))).toBe(true)
    expect(r.lines).toContain(`warning: showing 1,000 of ${totalKeys.toLocaleString('en-US')} keys (--limit 0 for all)`)
    expect(r.raw).toMatch(/\rkeys: [\d,]+ keys…\u001b\[K/)
    // TTLs read as durations.
    expect(rows[0]).toMatch(/ (\d+m)?\d+s$/)
  })

  it('keys --limit 0 lists them all; -o wide shows whole keys, wider than the terminal', async () => {
    const all = await onTerminal(['keys', '--limit', '0'], ctx.env)
    expect(all.lines.filter((l) => l.startsWith('gunicorn:'))).toHaveLength(totalKeys)
    expect(all.raw).not.toMatch(/showing/)
    const wide = await onTerminal(['keys', '-o', 'wide', '--kind', 'metric', '--type', 'gauge', '--mode', 'livemostrecent', '--limit', '3'], ctx.env)
    const rows = wide.lines.filter((l) => l.startsWith('gunicorn:'))
    expect(rows).toHaveLength(3)
    for (const row of rows) expect(row).toMatch(/^gunicorn:gauge_livemostrecent:\d+:metric:[0-9a-f]{32} +gauge \(livemostrecent\) +\d+ +metric +\S+$/)
    expect(Math.max(...rows.map(stringWidth))).toBeGreaterThan(80)
  })

  it('keys -o lines on a terminal: every key, one per line, and the progress line on the way, erased', async () => {
    const r = await onTerminal(['keys', '-o', 'lines'], ctx.env)
    expect(r.code).toBe(0)
    // The progress is erased before each batch of keys: no line starts on the end of a progress line.
    expect(r.raw).toMatch(/\rkeys: [\d,]+ keys…\u001b\[K/)
    expect(r.lines).toHaveLength(totalKeys)
    for (const line of r.lines) expect(line).toMatch(/^gunicorn:[a-z_]+:\d+:(metric|meta):[0-9a-f]{32}$/)
  })

  it('pid: fits, says whether the worker looks alive, buckets in le order and cumulative with a _count row', async () => {
    const r = await onTerminal(['pid', '10002', '--live-within', '1h'], ctx.env)
    expect(r.code).toBe(0)
    fits(r.lines)
    expect(r.lines[0]).toMatch(/^pid 10002: [\d,]+ series, last write \S+ ago$/)
    expect(r.lines[1]).toBe('alive: wrote within 1h; no process 10002 on this host')
    expect(r.lines[2]).toMatch(/^sample +labels +value +written +ttl$/)
    // The stored buckets of one label set, per bucket, from --json: the table must show their running sums.
    const stored = JSON.parse((await runCli(['pid', '10002', '--json'], ctx.env)).stdout).series as {
      sample: string
      labels: Record<string, string>
      value: number
    }[]
    const buckets = stored
      .filter((s) => s.sample === 'gunicorn_worker_request_duration_seconds_bucket' && s.labels.path === '/')
      .sort((a, b) => (a.labels.le === '+Inf' ? Infinity : Number(a.labels.le)) - (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)))
    expect(buckets.length).toBeGreaterThan(3)
    let running = 0
    const expected = buckets.map((b) => [b.labels.le, (running += b.value)] as const)
    const shown = r.lines.flatMap((l) => {
      const m = /_bucket +le="([^"]+)" path="\/" +([\d,]+) /.exec(l)
      return m ? [[m[1], Number(m[2].replaceAll(',', ''))] as const] : []
    })
    expect(shown).toEqual(expected)
    const countRow = r.lines.find((l) => /_count +path="\/" /.test(l))
    expect(countRow).toMatch(new RegExp(` ${running.toLocaleString('en-US')} +- +-$`))
  })

  it('pids and dump tables fit, and values read (no 114.0, thousands separators)', async () => {
    const pids = await onTerminal(['pids'], ctx.env)
    fits(pids.lines)
    expect(pids.lines[0]).toMatch(/^ *pid +metric keys +series +last write +ttl min +ttl max +no ttl$/)
    expect(pids.lines.filter((l) => /^ *1000\d /.test(l))).toHaveLength(4)
    const dump = await onTerminal(['dump'], ctx.env)
    fits(dump.lines)
    expect(dump.lines[0]).toMatch(/^sample +labels +value$/)
    const values = dump.lines.slice(2).map((l) => l.trim().split(/ {2,}/).at(-1)!)
    expect(values.some((v) => /^\d{1,3}(,\d{3})+$/.test(v))).toBe(true)
    expect(values.filter((v) => /\.0$|e\+/.test(v))).toEqual([])
  })

  it('colour: on a terminal unless NO_COLOR is set to something; FORCE_COLOR in a pipe', async () => {
    const plain = await onTerminal(['pids'], {...ctx.env, NO_COLOR: '1'})
    expect(plain.raw).not.toMatch(/\u001b\[3\dm/)
    const empty = await onTerminal(['pids'], {...ctx.env, NO_COLOR: ''})
    expect(empty.raw).toMatch(/\u001b\[36mpid/)
    const piped = await runCli(['pids', '-o', 'table'], {...ctx.env, NO_COLOR: '', FORCE_COLOR: '1'})
    expect(piped.stdout).toMatch(/\u001b\[36m/)
    const notForced = await runCli(['pids', '-o', 'table'], {...ctx.env, NO_COLOR: ''})
    expect(notForced.stdout).not.toMatch(/\u001b/)
  })
})

describe('progress lines', () => {
  const ctx = useRedis()

  it('Ctrl-C during a long dump on a real terminal: the progress line is erased, "interrupted" on a clean line, exit 130', async () => {
    // 300,000 metric keys written by one script: a walk long enough to show progress before Ctrl-C.
    await ctx.redis.eval(
      "for i = 1, 300000 do redis.call('HSET', string.format('big:counter:%d:metric:%032x', 1000 + i % 16, i), 'value', '1.0', 'timestamp', '0.0', 'updated_at', '1.0') end",
      0,
    )
    const command = `stty cols 80 rows 50; env NO_COLOR=1 REDIS_KEY_PREFIX=big ${Object.entries(ctx.env)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ')} ${quote(process.execPath)} ${quote(BIN)} dump`
    const {code, raw} = await new Promise<{code: number | null; raw: string}>((resolve, reject) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
      let raw = ''
      let sent = false
      const show = (d: string) => {
        raw += d
        // Ctrl-C typed at the terminal once the progress line shows: the line discipline makes it a SIGINT.
        if (!sent && /dump: [\d,]+ keys…/.test(raw)) {
          sent = true
          child.stdin.write('\u0003')
        }
      }
      child.stdout.setEncoding('utf8')
      child.stderr.setEncoding('utf8')
      child.stdout.on('data', show)
      child.stderr.on('data', show)
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`dump on a terminal did not end after Ctrl-C; screen: ${raw.slice(-500)}`))
      }, 60_000)
      child.on('close', (c) => {
        clearTimeout(timer)
        resolve({code: c, raw})
      })
    })
    expect(raw).toMatch(/dump: [\d,]+ keys…/)
    expect(code).toBe(130)
    // What the terminal shows (the text after each line's last carriage return), less the echoed ^C.
    const shown = visibleLines(raw).filter((line) => line.trim() !== '^C')
    expect(shown.at(-1)).toBe('interrupted')
    expect(shown.join('\n')).not.toMatch(/keys…/)
  })

  it('are erased on interrupt (clearProgress), so "interrupted" starts a clean line', () => {
    let written = ''
    const stream = {
      isTTY: true,
      write(s: string) {
        written += s
        return true
      },
    } as unknown as NodeJS.WriteStream
    const meter = progress('dump', stream)
    meter.update(9702)
    expect(written).toBe('\rdump: 9,702 keys…\u001b[K')
    clearProgress()
    expect(written.endsWith('\r\u001b[K')).toBe(true)
    // Erased once: a later done() writes nothing more.
    const before = written
    meter.done()
    expect(written).toBe(before)
  })
})
