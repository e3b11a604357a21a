import {Flags} from '@oclif/core'

import {BaseCommand, EXIT_CODES_HELP} from '../cli/base.js'
import {durationFlag} from '../cli/choices.js'
import {dumpSelection, dumpSelectionFlags} from '../cli/dump-flags.js'
import {ttlFlags} from '../cli/flags.js'
import {choosesSomething, pruneChoiceFlags, type PruneChoiceFlagValues, pruneChoices} from '../cli/prune-flags.js'
import {MAX_TIMER_MS, parseDuration} from '../config/duration.js'
import {LISTEN_ENV, loadListen} from '../config/listen.js'
import {ConfigError} from '../errors.js'
import {globToRegExp} from '../ops/dump.js'
import {serve} from '../ops/serve/index.js'
import {messageText} from '../render/safe-text.js'

/** `15s`, `1m`, or `0` (a walk per scrape). */
const refreshFlag = Flags.custom<number>({
  async parse(input) {
    const ms = input.trim() === '0' ? 0 : parseDuration(input, {requireUnit: true})
    if (ms === undefined || ms > MAX_TIMER_MS)
      throw new Error(`--refresh ${input}: expected a duration with a unit such as 15s or 1m, or 0 for a walk per scrape`)
    return ms
  },
})

export default class Serve extends BaseCommand<typeof Serve> {
  static override summary = 'Serve /metrics to Prometheus: the drop-in replacement for the exporter\u2019s sidecar'
  static override description = `An HTTP server with /metrics (exactly what dump prints for the same flags, then redismp's self-metrics), /healthz (this process answers) and /readyz (Redis answers a PING within 0.8 s; 503 otherwise).

The store is walked in the background, on a thread of its own: the first walk at start, each next one --refresh after the last one finished (never two at once). A scrape is answered at once from the newest complete walk; the age of its data is redismp_data_age_seconds. With --refresh 0 every scrape walks, and scrapes that come during a walk share it. Bodies are gzipped when the scraper accepts gzip (Prometheus does), the store's part once per walk.

Self-metrics: redis_connections_total, redis_operations_total{operation}, redis_operation_duration_seconds{operation}, redis_errors_total{type} (the backend's list), redismp_up (0 while a walk fails), redismp_walks_total{result}, redismp_walk_duration_seconds, redismp_walk_keys, redismp_walk_samples, redismp_walk_skipped_keys{reason}, redismp_walk_last_success_timestamp_seconds, redismp_data_age_seconds, redismp_prunes_total{result}, redismp_pruned_keys_total, and Node's process_* and nodejs_* metrics, read at most once a second and again after each walk. A store family with the name of a self-metric is served instead of it (one warning).

While Redis is down, /metrics still answers 200 with the self-metrics and redismp_up 0, without the store's families (no stale data); each failed walk logs one line on stderr. Redis is not needed to start.

It listens where the exporter's sidecar does: PROMETHEUS_BIND_ADDRESS (default: every interface) and PROMETHEUS_METRICS_PORT (default 9091); --listen HOST:PORT overrides both.

--prune-every 5m prunes in the same process with prune's flags (--stale, --local, --orphans, --artifacts, --older-than, --fix-ttl) and prune's lock, so that of several replicas one prunes at a time: the first prune at start, the next --prune-every after the last one finished.

SIGTERM: stops accepting, finishes the responses in flight, closes Redis and exits 0 within 5 s. SIGINT exits 130.

EXIT CODES
${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> serve --listen 127.0.0.1:9091',
    'PROMETHEUS_METRICS_PORT=9091 REDIS_HOST=redis <%= config.bin %> serve --refresh 15s',
    '<%= config.bin %> serve --live-within 2m --prune-every 5m --stale 10m',
    '<%= config.bin %> serve --refresh 0 --metric "gunicorn_*"',
  ]

  static override enableJsonFlag = false

  static override flags = {
    listen: Flags.string({description: `HOST:PORT to listen on (:9091 for every interface) [env: ${LISTEN_ENV.host}, ${LISTEN_ENV.port}; default: :9091]`}),
    refresh: refreshFlag({description: 'time between the end of a walk and the start of the next; 0: a walk per scrape [default: 15s]'}),
    ...dumpSelectionFlags,
    'prune-every': durationFlag({helpGroup: 'PRUNE', description: "prune in this process this often, with prune's flags below and its lock"}),
    ...(Object.fromEntries(Object.entries(pruneChoiceFlags).map(([name, flag]) => [name, {...flag, helpGroup: 'PRUNE'}])) as typeof pruneChoiceFlags),
    ...ttlFlags,
  }

  async run(): Promise<void> {
    const {flags} = this
    const {config} = this.loaded
    const listen = loadListen(process.env, flags.listen)
    if (flags.metric) globToRegExp(flags.metric)
    const prune = this.pruneSchedule()
    const handle = await serve({
      config,
      selection: {prefix: config.prefix, ...dumpSelection(flags)},
      listen,
      refreshMs: flags.refresh ?? 15_000,
      prune,
      warn: (line) => this.note(line),
      info: (line) => process.stderr.write(`${messageText(line)}\n`),
    })
    process.stderr.write(
      `serving http://${handle.address}/metrics (/healthz, /readyz); redis ${config.sentinels ? `master "${config.sentinelMaster}" via sentinels` : `${config.host}:${config.port}`} db ${config.db}, prefix "${config.prefix}"\n`,
    )
    this.onInterrupt = () => handle.shutdown(900)
    await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()))
    await handle.shutdown()
    // Done: whatever a library left pending (a profiler hook, a socket closing) does not hold the exit.
    setTimeout(() => process.exit(0), 200).unref()
  }

  private pruneSchedule(): {everyMs: number; options: ReturnType<typeof pruneChoices>} | undefined {
    const {flags} = this
    const choices = pruneChoices(flags as PruneChoiceFlagValues, this.loaded.config)
    const every = flags['prune-every']
    if (every === undefined) {
      if (choosesSomething(choices))
        throw new ConfigError("prune's flags (--stale, --local, --orphans, --artifacts, --older-than, --fix-ttl) need --prune-every")
      return undefined
    }
    if (!choosesSomething(choices))
      throw new ConfigError('--prune-every: nothing to prune: name dead workers (--local, --stale) or choose --orphans, --artifacts, --older-than or --fix-ttl')
    if (choices.olderThanMs !== undefined) this.note('--older-than deletes counters and histograms too: their totals will drop')
    return {everyMs: every, options: choices}
  }
}
