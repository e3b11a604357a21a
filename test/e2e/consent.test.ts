/**
 * The [y/N] prompt of destructive commands, on a real pseudo-terminal:
 * Ctrl-C there is an interrupt (exit 130), Ctrl-D (end of input) a no (exit 4),
 * and neither deletes anything.
 */
import {describe, expect, it} from 'vitest'

import {runCli, runCliOnTty} from '../helpers/cli.js'
import {scanAll, useRedis} from '../helpers/redis-server.js'

describe('answering the prompt with a key', () => {
  const ctx = useRedis()
  const prompt = /\[y\/N\] /

  async function seeded(): Promise<number> {
    if ((await scanAll(ctx.redis, 'gunicorn:*')).length === 0) {
      expect((await runCli(['seed', '--pids', '2', '--series', '2'], ctx.env)).code).toBe(0)
    }
    return (await scanAll(ctx.redis, 'gunicorn:*')).length
  }

  it('Ctrl-C at the prompt of flushdb and prune: "interrupted", exit 130, nothing deleted', async () => {
    const before = await seeded()
    for (const args of [['flushdb'], ['prune', '--pid', '10001']]) {
      const r = await runCliOnTty(args, ctx.env, [{waitFor: prompt, send: '\x03'}])
      expect(r.code, r.screen).toBe(130)
      expect(r.screen).toMatch(/error: interrupted at the prompt: nothing was deleted/)
      expect(r.screen).not.toMatch(/unexpected|Aborted/)
      expect((await scanAll(ctx.redis, 'gunicorn:*')).length).toBe(before)
    }
  })

  it('Ctrl-D (end of input) at the prompt is a no: exit 4, nothing deleted', async () => {
    const before = await seeded()
    for (const args of [['flushdb'], ['prune', '--pid', '10001']]) {
      const r = await runCliOnTty(args, ctx.env, [{waitFor: prompt, send: '\x04'}])
      expect(r.code, r.screen).toBe(4)
      expect(r.screen).toMatch(/error: no answer \(end of input\): nothing was deleted/)
      expect(r.screen).not.toMatch(/unexpected|Aborted/)
      expect((await scanAll(ctx.redis, 'gunicorn:*')).length).toBe(before)
    }
  })
})
