/**
 * The test tiers stay what their names say: vitest runs test/unit and
 * test/e2e only, so a test file anywhere else would never run; and a unit
 * test needs no server, process or network, so the inner loop stays seconds.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect, it} from 'vitest'

const TEST = fileURLToPath(new URL('..', import.meta.url))
const files = (readdirSync(TEST, {recursive: true}) as string[]).filter((f) => f.endsWith('.test.ts'))

it('every test file is in test/unit or test/e2e', () => {
  expect(files.filter((f) => !/^(unit|e2e)\//.test(f.split('\\').join('/')))).toEqual([])
})

it('unit tests start no server or process and open no connection', () => {
  // What a unit test may not import: the helpers start redis-server, Python, CLI processes.
  const outside = /from '(node:child_process|node:net|node:tls|ioredis|\.\.\/helpers\/[^']*|\.\.\/\.\.\/src\/redis\/(connect|lane)\.js)'/
  const offenders = files
    .filter((f) => f.startsWith('unit'))
    .filter((f) => outside.test(readFileSync(join(TEST, f), 'utf8')))
    .map((f) => relative(TEST, join(TEST, f)))
  expect(offenders).toEqual([])
})
