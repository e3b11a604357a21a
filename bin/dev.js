#!/usr/bin/env node
// Runs the compiled commands after a fresh build; for watch-free development: `npm run build && bin/dev.js …`.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
