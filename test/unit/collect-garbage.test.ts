import {setTimeout as tick} from 'node:timers/promises'

import {expect, it} from 'vitest'

import {collectGarbage} from '../../src/ops/collect-garbage.js'

it('collectGarbage runs a full collection in a run without --expose-gc: an object only a WeakRef holds is gone', async () => {
  expect((globalThis as {gc?: unknown}).gc).toBeUndefined()
  let held: object | undefined = {payload: new Array(1000).fill('x')}
  const ref = new WeakRef(held)
  held = undefined
  // A WeakRef's target lives to the end of the job that made or read it: collect in a later one.
  await tick(0)
  collectGarbage()
  expect(ref.deref()).toBeUndefined()
})
