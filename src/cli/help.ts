/**
 * Help that reads at 80 columns: each command shows its own flags in full and
 * the 19 connection flags every command shares once, compactly, as a list of
 * names (`redismp config --help` and README "Configuration" explain each;
 * config's own help shows them in full). Without this, they were half of
 * every help page and most of its usage line.
 */
import {type Command, Help} from '@oclif/core'

const GROUP = 'CONNECTION'

export default class RedismpHelp extends Help {
  override formatCommand(command: Command.Loadable): string {
    if (command.id === 'config') return alignFirstRows(super.formatCommand(command))
    const shared = Object.entries(command.flags ?? {}).filter(([, f]) => f.helpGroup === GROUP)
    if (shared.length === 0) return super.formatCommand(command)
    const own = Object.fromEntries(Object.entries(command.flags).filter(([, f]) => f.helpGroup !== GROUP))
    const text = super.formatCommand({...command, flags: own})
    const names = shared.map(([name, f]) => (f.char ? `-${f.char} --${name}` : f.type === 'boolean' && f.allowNo ? `--[no-]${name}` : `--${name}`))
    const section = [
      `${GROUP} FLAGS (all commands; ${this.config.bin} config --help explains them)`,
      ...wrap(names, Math.max(40, (this.opts.maxWidth ?? 80) - 2)).map((line) => `  ${line}`),
    ].join('\n')
    // After the flags, before DESCRIPTION (or at the end).
    const at = text.search(/\n\S*DESCRIPTION\S*\n/)
    return at === -1 ? `${text}\n\n${section}` : `${text.slice(0, at)}\n\n${section}\n${text.slice(at)}`
  }
}

/**
 * oclif indents the first row of a flag group by two spaces when its flag has
 * no short form, even where the rows below leave room for one (`-H, `): the
 * columns then start four spaces early. Shift such a row into line.
 */
function alignFirstRows(text: string): string {
  return text.replace(/(\nCONNECTION FLAGS\n) {2}(?=--)/, '$1      ')
}

/** Names joined by two spaces, in lines of at most `width` columns. */
function wrap(names: string[], width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const name of names) {
    if (line && line.length + 2 + name.length > width) {
      lines.push(line)
      line = ''
    }
    line += (line ? '  ' : '') + name
  }
  if (line) lines.push(line)
  return lines
}
