/**
 * The option shapes cli/ gives the flags dump, serve and prune share
 * (cli/ sits below ops/, whose options build on them): each must still fit the ops
 * options it fills. The type checks fail `npm run typecheck` when a field is
 * renamed or retyped on one side only; the tests pin the flag -> field mapping.
 */
import {describe, expect, it} from 'vitest'

import {type DumpSelection, dumpSelection} from '../../src/cli/dump-flags.js'
import {type PruneChoices, pruneChoices} from '../../src/cli/prune-flags.js'
import type {DumpOptions} from '../../src/ops/dump.js'
import type {PruneOptions} from '../../src/ops/prune/prune.js'

/** true when every field of Part is a field of Whole, of a type Whole accepts. */
type Fits<Part, Whole> = [Exclude<keyof Part, keyof Whole>] extends [never]
  ? Required<Part> extends Pick<Required<Whole>, keyof Part & keyof Whole>
    ? true
    : false
  : false

const dumpSelectionFits: Fits<DumpSelection, DumpOptions> = true
const pruneChoicesFit: Fits<PruneChoices, PruneOptions> = true

describe("cli's flag shapes fill the ops options", () => {
  it('dump and serve: each flag lands in its DumpOptions field', () => {
    expect(dumpSelectionFits).toBe(true)
    expect(
      dumpSelection({mode: 'max', metric: 'a_*', type: 'gauge', pid: 7, raw: true, by: [['path', 'method']], without: ['le'], 'live-within': 90_000}),
    ).toEqual({
      modeOverride: 'max',
      metric: 'a_*',
      type: 'gauge',
      pid: 7,
      raw: true,
      by: ['path', 'method'],
      without: ['le'],
      liveWithinMs: 90_000,
    })
  })

  it('prune and serve --prune-every: each flag lands in its PruneOptions field', () => {
    expect(pruneChoicesFit).toBe(true)
    const flags = {local: true, stale: 600_000, orphans: true, 'orphan-grace': 1000, artifacts: true, 'older-than': 86_400_000, 'fix-ttl': true}
    expect(pruneChoices(flags, {prefix: 'p', ttlSeconds: 300}, [12])).toEqual({
      prefix: 'p',
      pids: [12],
      local: true,
      staleMs: 600_000,
      orphans: true,
      orphanGraceMs: 1000,
      artifacts: true,
      olderThanMs: 86_400_000,
      fixTtlSeconds: 300,
    })
  })
})
