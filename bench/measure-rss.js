// Runs the real CLI in this process and records its peak RSS (KiB) in $RSS_FILE on exit.
import {writeFileSync} from 'node:fs'

process.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)))
await import('../bin/run.js')
