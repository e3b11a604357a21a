/**
 * oclif.manifest.json is committed for fast startup; it must describe the
 * commands as built. Regenerate it into a scratch copy of the package and compare.
 */
import {execFileSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect, it} from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

it('oclif.manifest.json is current (run `npm run manifest` after changing a command)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'redismp-manifest-'))
  try {
    cpSync(join(root, 'package.json'), join(scratch, 'package.json'))
    cpSync(join(root, 'dist'), join(scratch, 'dist'), {recursive: true})
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'))
    execFileSync(process.execPath, [join(root, 'node_modules/oclif/bin/run.js'), 'manifest'], {cwd: scratch, stdio: 'ignore'})
    const fresh = JSON.parse(readFileSync(join(scratch, 'oclif.manifest.json'), 'utf8'))
    const committed = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
    expect(committed).toEqual(fresh)
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
})
