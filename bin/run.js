#!/usr/bin/env node
import {maskSecretsInDebugOutput} from '../dist/cli/secrets.js'

// Before oclif loads: with DEBUG set, it and ioredis log argv and AUTH arguments.
maskSecretsInDebugOutput()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
