import {describe, expect, it} from 'vitest'

import {loadConfig} from '../../src/config/load.js'
import {parseDuration} from '../../src/config/duration.js'
import {ConfigError} from '../../src/errors.js'

describe('config', () => {
  it('defaults match the exporter', () => {
    const {config, sources} = loadConfig({})
    expect(config).toMatchObject({host: '127.0.0.1', port: 6379, db: 0, prefix: 'gunicorn', ttlSeconds: 300, ttlDisabled: false, tls: false})
    expect(sources.port).toBe('default')
  })

  it('reads every REDIS_* variable the exporter reads, with its boolean spellings', () => {
    const {config, sources} = loadConfig({
      REDIS_HOST: 'redis.internal',
      REDIS_PORT: '6380',
      REDIS_DB: '3',
      REDIS_PASSWORD: 'pw',
      REDIS_USERNAME: 'metrics',
      REDIS_SSL: 'yes',
      REDIS_KEY_PREFIX: 'app:metrics:',
      REDIS_TTL_SECONDS: '60',
      REDIS_TTL_DISABLED: 'ON',
      REDIS_ENABLED: '1',
      REDIS_CONNECT_TIMEOUT: '2.5',
      REDIS_COMMAND_TIMEOUT: '750ms',
    })
    expect(config).toMatchObject({
      host: 'redis.internal',
      port: 6380,
      db: 3,
      password: 'pw',
      username: 'metrics',
      tls: true,
      prefix: 'app:metrics',
      ttlSeconds: 60,
      ttlDisabled: true,
      enabled: true,
      connectTimeoutMs: 2500,
      commandTimeoutMs: 750,
    })
    expect(sources.host).toBe('env')
  })

  it('treats an empty variable as unset', () => {
    expect(loadConfig({REDIS_PORT: ''}).config.port).toBe(6379)
  })

  it('layers: defaults < REDIS_URL < REDIS_* < --url < flags', () => {
    const env = {REDIS_URL: 'rediss://u:p@from-url:7000/2', REDIS_PORT: '7001'}
    let {config, sources} = loadConfig(env)
    expect(config).toMatchObject({host: 'from-url', port: 7001, db: 2, username: 'u', password: 'p', tls: true})
    expect(sources.host).toBe('env:REDIS_URL')
    expect(sources.port).toBe('env')
    ;({config, sources} = loadConfig(env, {url: {value: 'redis://flag-url:7002', flag: '--url'}, db: {value: '5', flag: '--db'}}))
    expect(config).toMatchObject({host: 'flag-url', port: 7002, db: 5, tls: false})
    expect(sources.port).toBe('flag:--url')
    expect(sources.db).toBe('flag')
  })

  it('bad values name the variable or flag, what was expected, and never the secret', () => {
    expect(() => loadConfig({REDIS_PORT: '0'})).toThrow(new ConfigError('REDIS_PORT: expected a port number from 1 to 65535, got "0"'))
    expect(() => loadConfig({}, {db: {value: 'x', flag: '--db'}})).toThrow(/^--db: expected a database number/)
    expect(() => loadConfig({REDIS_URL: 'redis://h/abc'})).toThrow(/REDIS_URL: expected a database number after the host, got "\/abc"/)
    let message = ''
    try {
      loadConfig({REDIS_URL: 'ftp://user:topsecret@h'})
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/REDIS_URL/)
    expect(message).not.toContain('topsecret')
    expect(() => loadConfig({REDIS_SSL_CERT: '/c.pem'})).toThrow(/REDIS_SSL_CERT and REDIS_SSL_KEY/)
  })

  it('a Kubernetes service link in REDIS_PORT is not a port: an error naming the cure, unless REDIS_URL or a flag says which port', () => {
    const link = {REDIS_PORT: 'tcp://10.96.0.11:6379'}
    expect(() => loadConfig(link)).toThrow(
      /REDIS_PORT is "tcp:\/\/10\.96\.0\.11:6379": Kubernetes sets that .*enableServiceLinks: false in the pod spec, or set REDIS_URL \(or REDIS_HOST and REDIS_PORT\) explicitly/,
    )
    expect(() => loadConfig({...link, REDIS_HOST: 'redis'})).toThrow(ConfigError)
    expect(loadConfig({...link, REDIS_URL: 'redis://metrics-redis:6380/1'}).config).toMatchObject({host: 'metrics-redis', port: 6380, db: 1})
    expect(loadConfig(link, {port: {value: '6390', flag: '--port'}}).config.port).toBe(6390)
  })

  it('timeouts fit a timer; bare seconds still read as seconds there', () => {
    expect(loadConfig({REDIS_COMMAND_TIMEOUT: '2147483.647'}).config.commandTimeoutMs).toBe(2 ** 31 - 1)
    expect(() => loadConfig({REDIS_COMMAND_TIMEOUT: '2147483.648'})).toThrow(/REDIS_COMMAND_TIMEOUT: expected at most 2147483647ms/)
    expect(() => loadConfig({}, {commandTimeoutMs: {value: '25d', flag: '--command-timeout'}})).toThrow(/--command-timeout: expected at most/)
  })

  it('parses durations people type', () => {
    expect([parseDuration('90s'), parseDuration('10m'), parseDuration('2h'), parseDuration('1d'), parseDuration('500ms'), parseDuration('3')]).toEqual([
      90_000, 600_000, 7_200_000, 86_400_000, 500, 3000,
    ])
    expect(parseDuration('ten minutes')).toBeUndefined()
    expect(parseDuration('-5s')).toBeUndefined()
    expect(parseDuration('10', {requireUnit: true})).toBeUndefined()
    expect(parseDuration('10m', {requireUnit: true})).toBe(600_000)
  })
})
