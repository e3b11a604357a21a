/**
 * The habits an SRE brings from gh, kubectl and redis-cli: -h and -v, a
 * version command, "did you mean …?", one `error: …` line for every failure
 * (oclif's own included) with a JSON error object under --json, one JSON
 * shape per command, contradictions refused, shell completion, and the
 * smaller answers that must say what they mean.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {startRedis, useRedis} from '../helpers/redis-server.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}

function oneErrorLine(stderr: string): string {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  return lines[0]
}

describe('help, version, suggestions and errors (no Redis needed)', () => {
  // Nothing listens here: a command that connected by mistake would fail differently (exit 3).
  const nowhere = {REDIS_PORT: '1'}

  it('-h and --help show help, for the CLI and for a command', async () => {
    for (const args of [['-h'], ['--help']]) {
      const r = await runCli(args, nowhere)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^COMMANDS$/m)
      expect(r.stdout).toMatch(/^ +dump +Show what Prometheus would scrape/m)
    }
    for (const args of [
      ['dump', '-h'],
      ['dump', '--help'],
      ['help', 'dump'],
    ]) {
      const r = await runCli(args, nowhere)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^USAGE\n {2}\$ redismp dump/m)
      expect(r.stdout).toMatch(/--without=<value>/)
    }
  })

  it('help reads at 80 columns: the connection flags once, as a compact list; config --help explains them; examples start with $', async () => {
    const text = (await runCli(['dump', '--help'], {...nowhere, COLUMNS: '80'})).stdout
    expect(text.match(/CONNECTION FLAGS/g)).toHaveLength(1)
    const section = text.slice(text.indexOf('CONNECTION FLAGS')).split('\n\n')[0].split('\n')
    expect(section.length).toBeLessThanOrEqual(5)
    expect(section.join(' ')).toMatch(/--url +-H --host +-p --port +-n --db .*--command-timeout/)
    expect(text).not.toMatch(/--tls-servername=<value>/)
    expect(text).toMatch(/^USAGE\n {2}\$ redismp dump \[--json\] \[-o prometheus\|json\|table\|wide\] \[--wide\]\n {4}\[--mode MODE\]/m)
    const examples = text
      .slice(text.indexOf('EXAMPLES'))
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l))
    expect(examples.length).toBeGreaterThan(3)
    for (const line of examples) expect(line).toMatch(/^ {2}\$ /)
    const config = (await runCli(['config', '--help'], {...nowhere, COLUMNS: '80'})).stdout
    // Full descriptions there, the columns aligned (oclif indents a first row without a short flag too little).
    expect(config).toMatch(/^ {6}--url=<value> {2,}redis:\/\//m)
    expect(config).toMatch(/^ {2}-H, --host=<value> {2,}Redis host/m)
    const rows = config.slice(config.indexOf('CONNECTION FLAGS')).match(/^ {2}(-\w, | {4})--[\w-[\]]+(=<value>)? +\S/gm)!
    expect(rows).toHaveLength(19)
    expect(new Set(rows.map((l) => l.length)).size).toBe(1)
  })

  it('-v, --version and version print the version; version --json an object', async () => {
    for (const args of [['-v'], ['--version'], ['version']]) {
      const r = await runCli(args, nowhere)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^redismp/${pkg.version.replaceAll('.', '\\.')} \\S+ node-v\\d+`))
    }
    const json = JSON.parse((await runCli(['version', '--json'], nowhere)).stdout)
    expect(json).toMatchObject({version: pkg.version, node: process.version})
  })

  it('an unknown command names the nearest one, exit 2, one line; a JSON error object under --json', async () => {
    const r = await runCli(['dumb'], nowhere)
    expect(r.code).toBe(2)
    expect(oneErrorLine(r.stderr)).toMatch(/unknown command "dumb": did you mean dump\?/)
    expect(r.stdout).toBe('')
    const far = await runCli(['xyzzy'], nowhere)
    expect(oneErrorLine(far.stderr)).toMatch(/the commands are .*config, dump, flushdb, health, .*keys, pid, pids, prune, seed/)
    const json = await runCli(['pidz', '--json'], nowhere)
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({error: {message: expect.stringMatching(/did you mean pid(s)?\?/), exitCode: 2, name: 'ConfigError'}})
  })

  it("oclif's own parse errors are one line: an unknown flag (with a suggestion), a bad value, a missing argument", async () => {
    const cases: [string[], RegExp][] = [
      [['dump', '--wid'], /Nonexistent flag: --wid; did you mean --wide\?/],
      [['keys', '--limt', '5'], /did you mean --limit\?/],
      [['dump', '--format', 'xml'], /--format=xml to be one of: prometheus, json, table, wide/],
      [['pid'], /Missing 1 required arg: pid/],
      [['keys', '--limit', 'abc'], /--limit: Expected an integer/],
    ]
    for (const [args, pattern] of cases) {
      const r = await runCli(args, nowhere)
      expect(r.code).toBe(2)
      expect(oneErrorLine(r.stderr)).toMatch(pattern)
    }
    const json = await runCli(['dump', '--wid', '--json'], nowhere)
    expect(JSON.parse(json.stdout).error).toMatchObject({exitCode: 2, message: expect.stringMatching(/--wid/)})
  })

  it('contradicting output flags are exit 2, never a silent choice', async () => {
    const cases: [string[], RegExp][] = [
      [['dump', '--format', 'prometheus', '--json'], /--format prometheus and --json contradict/],
      [['keys', '-o', 'tsv', '--json'], /--format tsv and --json contradict/],
      [['pids', '--wide', '--json'], /--wide is a table view and --json is not/],
      [['pid', '1', '--wide', '-o', 'tsv'], /--wide is a table view and --format tsv is not/],
      [['flushdb', '--confirm', '127.0.0.1:1/0', '--yes'], /--confirm names the target of --all-keys, and --all-keys was not given/],
    ]
    for (const [args, pattern] of cases) {
      const r = await runCli(args, nowhere)
      expect(r.code).toBe(2)
      expect(oneErrorLine(r.stderr)).toMatch(pattern)
    }
  })

  it('config --json (and -o json) is one object keyed by setting', async () => {
    const a = await runCli(['config', '--json'], {REDIS_PORT: '6390'})
    const b = await runCli(['config', '-o', 'json'], {REDIS_PORT: '6390'})
    expect(a.stdout).toBe(b.stdout)
    const config = JSON.parse(a.stdout)
    expect(config.port).toEqual({env: 'REDIS_PORT', value: 6390, source: expect.stringMatching(/REDIS_PORT/)})
    expect(config.host).toMatchObject({value: '127.0.0.1', source: 'default'})
    // In a pipe: tab-separated, a header and one line per setting.
    const tsv = (await runCli(['config'], {REDIS_PORT: '6390'})).stdout.trim().split('\n')
    expect(tsv[0]).toBe('setting\tenv\tvalue\tsource')
    expect(tsv).toContainEqual(expect.stringMatching(/^port\tREDIS_PORT\t6390\t/))
  })

  it('shell completion for bash and zsh: the scripts complete commands and flags', async () => {
    const home = mkdtempSync(join(tmpdir(), 'redismp-completion-'))
    try {
      const r = await runCli(['autocomplete', 'bash'], {HOME: home})
      expect(r.code).toBe(0)
      const functions = join(home, '.cache/redismp/autocomplete/functions')
      const complete = (words: string[]) =>
        execFileSync('bash', [
          '-c',
          `source ${functions}/bash/redismp.bash; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _redismp_autocomplete; echo "\${COMPREPLY[@]}"`,
        ])
          .toString()
          .trim()
      expect(complete(['redismp', 'du'])).toBe('dump')
      expect(complete(['redismp', 'dump', '--wi'])).toMatch(/--without/)
      expect(complete(['redismp', 'dump', '--wi'])).toMatch(/--wide/)
      const zsh = readFileSync(join(functions, 'zsh/_redismp'), 'utf8')
      expect(zsh).toMatch(/^#compdef redismp/)
      expect(zsh).toMatch(/dump/)
      expect((await runCli(['autocomplete', 'script', 'zsh'], {HOME: home})).stdout).toMatch(/REDISMP_AC_ZSH_SETUP_PATH=/)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })
})

describe('answers that say what they mean (against a real Redis)', () => {
  const ctx = useRedis()
  beforeAll(async () => {
    expect((await runCli(['seed', '--pids', '2', '--series', '2'], ctx.env)).code).toBe(0)
  })

  it('--format json is --json: dump gives {families, stats, deadPids} either way', async () => {
    const a = JSON.parse((await runCli(['dump', '--json'], ctx.env)).stdout)
    const b = JSON.parse((await runCli(['dump', '--format', 'json'], ctx.env)).stdout)
    expect(Object.keys(a)).toEqual(['families', 'stats', 'deadPids'])
    expect(b.families).toEqual(a.families)
    for (const cmd of [['keys'], ['pids'], ['pid', '10001']]) {
      const viaFormat = JSON.parse((await runCli([...cmd, '-o', 'json'], ctx.env)).stdout)
      const viaJson = JSON.parse((await runCli([...cmd, '--json'], ctx.env)).stdout)
      expect(Object.keys(viaFormat)).toEqual(Object.keys(viaJson))
    }
  })

  it('--raw says that --mode and --live-within do nothing with it', async () => {
    const r = await runCli(['dump', '--raw', '--mode', 'sum', '--live-within', '1m', '--metric', 'gunicorn_free_threads'], ctx.env)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^warning: --mode does nothing with --raw \(no folding\): ignored$/m)
    expect(r.stderr).toMatch(/^warning: --live-within does nothing with --raw \(no folding\): ignored$/m)
  })

  it('keys: a PATTERN that repeats the prefix is pointed out', async () => {
    const r = await runCli(['keys', 'gunicorn:counter:*'], ctx.env)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/PATTERN is matched after "gunicorn:".*did you mean 'counter:\*'\?/)
    expect((await runCli(['keys', 'counter:*'], ctx.env)).stderr).toBe('')
  })

  it('keys --resolve and pids in a pipe are tab-separated columns', async () => {
    const keys = (await runCli(['keys', '--resolve', '--kind', 'meta', '--type', 'counter'], ctx.env)).stdout.trim().split('\n')
    expect(keys[0]).toBe('key\ttype\tpid\tkind\tttl\tmetric\tsample')
    for (const line of keys.slice(1))
      expect(line.split('\t')).toEqual([
        expect.stringMatching(/^gunicorn:counter:\d+:meta:/),
        'counter',
        expect.stringMatching(/^\d+$/),
        'meta',
        expect.any(String),
        'gunicorn_worker_requests',
        'gunicorn_worker_requests_total',
      ])
    const lines = await runCli(['keys', '--resolve', '-o', 'lines', '--limit', '2'], ctx.env)
    expect(lines.stdout.trim().split('\n')).toHaveLength(2)
    expect(lines.stderr).toMatch(/^warning: --resolve does nothing with -o lines/m)
    const pids = (await runCli(['pids'], ctx.env)).stdout.trim().split('\n')
    expect(pids[0]).toBe('pid\tmetric_keys\tseries\tlast_write\tage_seconds\tttl_min\tttl_max\tno_ttl\tartifacts')
    expect(pids.slice(1).map((l) => l.split('\t')[0])).toEqual(['10001', '10002'])
  })

  it('pid of a pid with no keys: exit 8, one line; prune --pid of one says it has none', async () => {
    const r = await runCli(['pid', '99999'], ctx.env)
    expect(r.code).toBe(8)
    expect(oneErrorLine(r.stderr)).toMatch(/pid 99999 has no keys under prefix "gunicorn"/)
    const json = await runCli(['pid', '99999', '--json'], ctx.env)
    expect(JSON.parse(json.stdout).error).toMatchObject({exitCode: 8, name: 'NotFoundError'})
    const prune = await runCli(['prune', '--pid', '99999', '--pid', '10001', '--dry-run', '--json'], ctx.env)
    expect(prune.code).toBe(0)
    expect(prune.stderr).toMatch(/^warning: pid 99999 has no keys under prefix "gunicorn"/m)
    expect(JSON.parse(prune.stdout).pidsWithoutKeys).toEqual([99_999])
  })

  it('health --strict with warnings: the status line says FAILED, as the exit code does', async () => {
    // seed's keys without a TTL (no REDIS_TTL_SECONDS): a warning.
    expect(
      (await runCli(['seed', '--prefix', 'nottl', '--pids', '1', '--series', '1'], {REDIS_HOST: ctx.server.host, REDIS_PORT: String(ctx.server.port)})).code,
    ).toBe(0)
    const r = await runCli(['health', '--strict', '--prefix', 'nottl', '--pings', '1'], ctx.env)
    expect(r.code).toBe(6)
    expect(r.stdout).toMatch(/^status +FAILED --strict: healthy, but \d+ warnings?$/m)
    expect(r.stdout).not.toMatch(/^status +healthy$/m)
  })

  it('seed writes without a TTL unless asked, and says how to remove its data', async () => {
    const env = {REDIS_HOST: ctx.server.host, REDIS_PORT: String(ctx.server.port)}
    const r = await runCli(['seed', '--prefix', 'explore', '--pids', '1', '--series', '1'], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ttl +none: the keys stay until removed/m)
    expect(r.stdout).toMatch(/^remove with +redismp flushdb --prefix explore --yes$/m)
    const ttls = JSON.parse((await runCli(['pids', '--prefix', 'explore', '--json'], env)).stdout)
    expect(ttls[0]).toMatchObject({minTtl: null, maxTtl: null})
    const asked = JSON.parse((await runCli(['seed', '--prefix', 'expiring', '--pids', '1', '--series', '1', '--ttl-seconds', '120', '--json'], env)).stdout)
    expect(asked.ttlSeconds).toBe(120)
    const rows = JSON.parse((await runCli(['pids', '--prefix', 'expiring', '--json'], env)).stdout)
    expect(rows[0].maxTtl).toBeLessThanOrEqual(120)
    expect(rows[0].keysWithoutTtl).toBe(0)
  })
})

describe('TLS mistakes name their fix', () => {
  let plain: Awaited<ReturnType<typeof startRedis>>
  beforeAll(async () => {
    plain = await startRedis()
  })
  afterAll(async () => plain?.stop())

  it('rediss:// to a plain port says it is a plain Redis port, without waiting for the connect timeout', async () => {
    // A plain Redis never answers a ClientHello: the old code waited the whole 20 s, then said less.
    const r = await runCli(['health', '--url', `rediss://127.0.0.1:${plain.port}`, '--connect-timeout', '20s', '--command-timeout', '1s'], {})
    expect(r.code).toBe(3)
    expect(oneErrorLine(r.stderr)).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${plain.port} is a plain \\(non-TLS\\) Redis port: use redis:// \\(or drop --tls, REDIS_SSL\\)$`),
    )
  })
})
