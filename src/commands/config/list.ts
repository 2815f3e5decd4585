import {BaseCommand} from '../../base-command.js'
import {SETTING_KEYS, SETTING_SPECS, settingText} from '../../core/config/settings.js'
import {maskSecret} from '../../core/secrets.js'

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override summary = 'List the user settings'
  static override description =
    'Shows every setting aiclient knows, its stored value (secrets masked) and what it is for.'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json']
  static override enableJsonFlag = true

  async run() {
    const stored = this.settings().all()
    const rows = SETTING_KEYS.map((key) => {
      const value = stored[key]
      return {
        key,
        value: typeof value === 'string' && SETTING_SPECS[key].secret ? maskSecret(value) : (value ?? null),
        description: SETTING_SPECS[key].description,
      }
    })
    for (const row of rows)
      this.log(`${row.key.padEnd(14)} ${settingText(row.value ?? '-').padEnd(30)} ${row.description}`)
    return rows
  }
}
