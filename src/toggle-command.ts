import {Args, Flags} from '@oclif/core'
import {BaseCommand} from './base-command.js'
import {describeInstance} from './core/pools/lookup.js'
import {parseProviderType, setDisabled} from './core/pools/operations.js'

/** `pool enable` and `pool disable`: the same command with the flag value reversed. */
export abstract class ToggleCommand extends BaseCommand<typeof ToggleCommand> {
  static override enableJsonFlag = true
  static override args = {instance: Args.string({description: 'uuid, uuid prefix or name', required: true})}
  static override flags = {type: Flags.string({description: 'look the instance up only in this provider type'})}
  protected abstract readonly disable: boolean

  async run() {
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const [changed] = await setDisabled(await this.poolStore(), this.args.instance, this.disable, type)
    this.log(`${this.disable ? 'Disabled' : 'Enabled'} ${describeInstance(changed!)}.`)
    return {type: changed!.type, uuid: changed!.uuid, name: changed!.name, isDisabled: changed!.isDisabled}
  }
}
