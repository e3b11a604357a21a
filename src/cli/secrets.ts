/**
 * Secrets are never printed, whatever the debug setting. With DEBUG=* or
 * DEBUG=ioredis:*, ioredis logs every command it writes (HELLO and AUTH with
 * the password) and oclif logs argv (with --password): both through the
 * `debug` package onto stderr, so stderr is where the password is masked,
 * before oclif starts (bin/run.js).
 */
import {inspect} from 'node:util'

const MASK = '***'

function urlPassword(text: string | undefined): string[] {
  if (!text) return []
  try {
    const raw = new URL(text).password
    return raw ? [raw, decodeURIComponent(raw)] : []
  } catch {
    return []
  }
}

/** The passwords this run was given: REDIS_PASSWORD, in REDIS_URL, --password and --url. */
export function givenSecrets(env: NodeJS.ProcessEnv, argv: readonly string[]): string[] {
  const flag = (name: string) =>
    argv.flatMap((arg, i) => (arg === `--${name}` ? [argv[i + 1] ?? ''] : arg.startsWith(`--${name}=`) ? [arg.slice(name.length + 3)] : []))
  const secrets = [env.REDIS_PASSWORD ?? '', ...urlPassword(env.REDIS_URL), ...flag('password'), ...flag('url').flatMap(urlPassword)]
  // As logged too: quoted by util.inspect (%o) or JSON, or percent-encoded.
  const forms = secrets.filter(Boolean).flatMap((s) => [s, inspect(s).slice(1, -1), JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])
  // Longest first, so that a secret is masked whole and not around a shorter one inside it.
  return [...new Set(forms)].sort((a, b) => b.length - a.length)
}

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) out = out.split(s).join(MASK)
  return out
}

/** While DEBUG is set, everything written to stderr has the passwords of this run masked. */
export function maskSecretsInDebugOutput(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv): void {
  if (!env.DEBUG) return
  const secrets = givenSecrets(env, argv)
  if (secrets.length === 0) return
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : chunk
    return write(typeof text === 'string' ? maskSecrets(text, secrets) : text, ...rest)
  }) as typeof process.stderr.write
}
