import {ToggleCommand} from '../../toggle-command.js'

export default class PoolEnable extends ToggleCommand {
  static override summary = 'Enable an instance'
  static override description =
    'Puts a disabled instance back into rotation; a running `serve` uses it again within a second.'
  static override examples = ['<%= config.bin %> pool enable 2f579c65', '<%= config.bin %> pool enable work --json']
  protected readonly disable = false
}
