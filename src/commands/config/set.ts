import {Args} from '@oclif/core'
import {resolve} from 'node:path'
import {BaseCommand} from '../../base-command.js'
import {parseSettingKey} from '../../core/config/settings.js'

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override summary = 'Change a user setting'
  static override description =
    'Stores a setting for every later command. Settings are the lowest layer: flags, environment variables and config.json override them. A relative poolsFile is stored as an absolute path. `config set KEY ""` removes the setting.'
  static override examples = [
    '<%= config.bin %> config set poolsFile ~/ai/provider_pools.json',
    '<%= config.bin %> config set port 3100',
    '<%= config.bin %> config set modelProvider claude-custom',
    `<%= config.bin %> config set modelAliases '{"claude-kiro-oauth": {"claude-opus-5-*": "claude-opus-4-8"}}'`,
  ]
  static override enableJsonFlag = true
  static override args = {
    key: Args.string({
      description: 'setting name (poolsFile, host, port, modelProvider, apiKey, corsOrigins, modelAliases)',
      required: true,
    }),
    value: Args.string({description: 'new value', required: true}),
  }

  async run() {
    const key = parseSettingKey(this.args.key)
    const settings = this.settings()
    if (this.args.value === '') {
      settings.delete(key)
      this.log(`Removed ${key}.`)
      return {key, removed: true}
    }
    settings.set(key, key === 'poolsFile' ? resolve(this.args.value) : this.args.value)
    this.log(`Set ${key}.`)
    return {key, removed: false}
  }
}
