import {describe, expect, it} from 'vitest'

import {normalizePrefix} from '../../src/config/parsers.js'
import {classifyKey, escapeGlob, siblingKey} from '../../src/metrics/keys.js'

const H = '0123456789abcdef0123456789abcdef'

describe('key schema', () => {
  it('parses from the right, so prefixes may contain colons', () => {
    const v = classifyKey(`app:metrics:gauge_livesum:42:metric:${H}`, 'app:metrics')
    expect(v).toMatchObject({ours: true, parsed: {type: 'gauge', mode: 'livesum', artifact: false, pid: 42, kind: 'metric', hash: H}})
  })

  it('marks bare gauge keys as exporter artifacts', () => {
    expect(classifyKey(`gunicorn:gauge:7:meta:${H}`, 'gunicorn')).toMatchObject({ours: true, parsed: {type: 'gauge', artifact: true}})
  })

  it('tells another application under a nested prefix from foreign data under ours', () => {
    expect(classifyKey(`gunicorn:shadow:counter:1:metric:${H}`, 'gunicorn')).toEqual({ours: false, reason: 'other-prefix'})
    expect(classifyKey(`gunicornx:counter:1:metric:${H}`, 'gunicorn')).toMatchObject({ours: false, reason: 'malformed'})
    for (const bad of [
      'gunicorn:hello',
      `gunicorn:timer:1:metric:${H}`,
      `gunicorn:gauge_median:1:metric:${H}`,
      `gunicorn:counter:abc:metric:${H}`,
      `gunicorn:counter:0:metric:${H}`,
      `gunicorn:counter:1:samples:${H}`,
      'gunicorn:counter:1:metric:XYZ',
      `gunicorn:counter:1:metric:${H.toUpperCase()}`,
    ]) {
      expect(classifyKey(bad, 'gunicorn')).toMatchObject({ours: false, reason: 'malformed'})
    }
  })

  it('finds the sibling meta of a metric key', () => {
    const v = classifyKey(`p:counter:1:metric:${H}`, 'p')
    if (!v.ours) throw new Error('expected ours')
    expect(siblingKey(v.parsed, 'meta')).toBe(`p:counter:1:meta:${H}`)
  })

  it('escapes glob characters for MATCH and strips a trailing colon from the prefix', () => {
    expect(escapeGlob('a*b?c[d]e\\f^')).toBe('a\\*b\\?c\\[d\\]e\\\\f\\^')
    expect(normalizePrefix('gunicorn:')).toBe('gunicorn')
  })
})
