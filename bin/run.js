#!/usr/bin/env node
import {maskSecretsInDebugOutput} from '../dist/cli/secrets.js'

// Before oclif loads: with DEBUG set, it and ioredis log argv and AUTH arguments.
maskSecretsInDebugOutput()
const {flush, run} = await import('@oclif/core')
const {reportFailure} = await import('../dist/cli/failure.js')
try {
  await run(process.argv.slice(2), import.meta.url)
  await flush()
} catch (error) {
  // oclif's own handler prints its errors in its own form, over several lines: ours is one line, `error: …`.
  process.exitCode = reportFailure(error)
}
