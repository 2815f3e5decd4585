import {ToggleCommand} from '../../toggle-command.js'

export default class PoolDisable extends ToggleCommand {
  static override summary = 'Disable an instance'
  static override description =
    'Takes an instance out of rotation without removing it (isDisabled: true); a running `serve` stops using it within a second.'
  static override examples = ['<%= config.bin %> pool disable 2f579c65', '<%= config.bin %> pool disable work --json']
  protected readonly disable = true
}
