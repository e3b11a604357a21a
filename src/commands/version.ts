import {Command} from '@oclif/core'

/** `redismp version`, as `-v` and `--version` (gh and kubectl habits): the same line, or an object under --json. */
export default class Version extends Command {
  static override summary = 'Print the version (also -v, --version)'
  static override enableJsonFlag = true
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  async run(): Promise<{version: string; node: string; platform: string}> {
    await this.parse(Version)
    if (!this.jsonEnabled()) this.log(this.config.userAgent)
    return {version: this.config.version, node: process.version, platform: `${this.config.platform}-${this.config.arch}`}
  }

  override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }
}
