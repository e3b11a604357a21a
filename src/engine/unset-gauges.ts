/**
 * Live gauges between their creation and their first write.
 *
 * prometheus_client creates a worker's value as soon as a gauge (or one of
 * its labelled children) exists: the mmap file holds 0.0, and a scrape shows
 * that worker's 0 (one more term of a sum, a 0 in a min or max). The
 * exporter writes its meta under the gauge's mode at creation
 * (`gauge_livesum:{pid}:meta:{md5}`: typ and multiprocess_mode, no
 * original_key yet), but the 0.0 goes to a bare `gauge:{pid}:metric:{md5}`
 * twin (with a bare `gauge` meta holding original_key): its init looks the
 * mode up among all/liveall/live/max/min/sum only, so livesum, livemax,
 * livemin, mostrecent and livemostrecent gauges miss. The first inc/set
 * writes the gauge's own key; the twin stays behind, never written again.
 *
 * So a twin whose pid has no key of its own for the series is that window,
 * and its 0 belongs to the series under the mode its pid's meta names (or,
 * without that meta, the one mode other pids stored the series under).
 */
import {GAUGE_MODES, type GaugeMode, TYPE_INDEX} from '../metrics/keys.js'
import {slotPid, slotType} from './repeats.js'

/** TYPE_INFOS index of the bare `gauge` twin. */
export const TWIN_TYPE = TYPE_INDEX.get('gauge')!
/** TYPE_INFOS index of each gauge mode's own key. */
export const MODE_TYPE = Object.fromEntries(GAUGE_MODES.map((m) => [m, TYPE_INDEX.get(`gauge_${m}`)!])) as Record<GaugeMode, number>
/** The modes whose init leaves a twin: the ones its lookup (all, liveall, live, max, min, sum) misses. Only their metas can name a twin's mode. */
export const TWIN_MODES: readonly GaugeMode[] = ['livesum', 'livemax', 'livemin', 'mostrecent', 'livemostrecent']
const MODE_OF_TYPE = new Map(GAUGE_MODES.map((m) => [MODE_TYPE[m], m]))

/** The gauge modes the slots hold, for `pid` or for every pid but it. */
function modesOf(slots: readonly number[], pid: number, own: boolean): Set<GaugeMode> {
  const modes = new Set<GaugeMode>()
  for (const slot of slots) {
    const mode = MODE_OF_TYPE.get(slotType(slot))
    if (mode && (slotPid(slot) === pid) === own) modes.add(mode)
  }
  return modes
}

/**
 * Whether `pid` wrote the series under a mode of its own: then its twin is
 * what init left behind, not a value. `slots`: the series' (PidBits.slotsOf).
 */
export function wroteOwnKey(slots: readonly number[], pid: number): boolean {
  return modesOf(slots, pid, true).size > 0
}

/** The one mode the other pids stored the series under; undefined when none did, or they disagree. */
export function modeElsewhere(slots: readonly number[], pid: number): GaugeMode | undefined {
  const modes = modesOf(slots, pid, false)
  return modes.size === 1 ? [...modes][0] : undefined
}
