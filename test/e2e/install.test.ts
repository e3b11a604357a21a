/**
 * Installable where it runs: the tarball `npm pack` makes (what the
 * Dockerfile installs) holds the built CLI and its manifest, installs into an
 * empty prefix with production dependencies only, and runs from that PATH,
 * away from this repository. Dependencies come from npm's cache (`npm ci`
 * filled it) when it has them.
 */
import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {afterAll, describe, expect, it} from 'vitest'

import {useRedis} from '../helpers/redis-server.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('npm pack, then npm install -g into an empty prefix', () => {
  const ctx = useRedis()
  const dir = mkdtempSync(join(tmpdir(), 'redismp-install-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('the installed redismp runs from PATH, outside the repository', async () => {
    // dist/ is built (npm test builds first): pack it as is.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {cwd: ROOT})
    const [{filename, files}] = JSON.parse(packed.stdout) as {filename: string; files: {path: string}[]}[]
    const paths = files.map((f) => f.path)
    expect(paths).toEqual(expect.arrayContaining(['bin/run.js', 'dist/commands/dump.js', 'dist/cli/not-found.js', 'oclif.manifest.json', 'package.json']))
    expect(paths.filter((p) => /^(src|test)\//.test(p))).toEqual([])

    const prefix = join(dir, 'prefix')
    await run('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename)], {
      cwd: dir,
      timeout: 120_000,
    })
    const env = {PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir, NO_COLOR: '1', ...ctx.env}
    const version = await run('redismp', ['--version'], {cwd: dir, env})
    expect(version.stdout).toMatch(/^redismp\/0\.\d+\.\d+ /)
    const health = await run('redismp', ['health', '--no-keyspace', '--pings', '1'], {cwd: dir, env})
    expect(health.stdout).toMatch(/^status +healthy$/m)
    // No development dependency came along.
    const installed = await run('npm', ['ls', '--global', '--prefix', prefix, '--all', '--parseable'], {cwd: dir, env: {...process.env}})
    expect(installed.stdout).not.toMatch(/node_modules\/(vitest|typescript|oclif)$/m)
  })
})

describe('Dockerfile', () => {
  // No Docker daemon where the tests run: this checks that the image installs what the test above
  // installs (the npm pack tarball, production dependencies only) and runs as redismp, not as root.
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')

  it('is multi-stage from node:20-slim, installs the packed tarball without dev dependencies, runs as a user, ENTRYPOINT redismp', () => {
    expect(text.match(/^FROM node:20-slim\b/gm)).toHaveLength(2)
    expect(text).toMatch(/^RUN .*npm pack --ignore-scripts/m)
    expect(text).toMatch(/^RUN npm install --global --omit=dev .*redismp\.tgz/m)
    expect(text).toMatch(/^USER node$/m)
    expect(text).toMatch(/^ENTRYPOINT \["redismp"\]$/m)
  })

  it('copies only files that exist', () => {
    const sources = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/))
    expect(sources.length).toBeGreaterThan(3)
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true)
  })
})
