import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {SETTING_SPECS, parseSettingKey, settingText} from '../../core/config/settings.js'
import {maskSecret} from '../../core/secrets.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override summary = 'Print one user setting'
  static override description =
    'Prints the stored value of a setting (secrets masked); nothing and exit 1 when it is not set.'
  static override examples = ['<%= config.bin %> config get poolsFile', '<%= config.bin %> config get port --json']
  static override enableJsonFlag = true
  static override args = {key: Args.string({description: 'setting name', required: true})}

  async run() {
    const key = parseSettingKey(this.args.key)
    const value = this.settings().get(key)
    const shown = typeof value === 'string' && SETTING_SPECS[key].secret ? maskSecret(value) : value
    if (value === undefined) process.exitCode = 1
    else this.log(settingText(shown))
    return {key, value: shown ?? null}
  }
}
