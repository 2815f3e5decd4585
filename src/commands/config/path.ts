import {BaseCommand} from '../../base-command.js'

export default class ConfigPath extends BaseCommand<typeof ConfigPath> {
  static override summary = 'Show where settings and the pool file are read from'
  static override description =
    'Prints the user settings file and the provider_pools.json that commands would use here, with the layer that chose it.'
  static override examples = ['<%= config.bin %> config path', '<%= config.bin %> config path --json']
  static override enableJsonFlag = true

  async run() {
    const pools = await this.poolsFile()
    const settings = this.settings().path
    const configJson = (await this.configJson()).file
    this.log(`settings:    ${settings}`)
    this.log(`config.json: ${configJson ?? '(none)'}`)
    this.log(`pools file:  ${pools.value} (from ${pools.source})`)
    return {settings, configJson, poolsFile: pools.value, poolsFileSource: pools.source}
  }
}
