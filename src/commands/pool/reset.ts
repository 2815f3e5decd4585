import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseProviderType, resetInstances} from '../../core/pools/operations.js'

export default class PoolReset extends BaseCommand<typeof PoolReset> {
  static override summary = 'Mark instances healthy and clear their error counters'
  static override description =
    'Resets one instance (by uuid, uuid prefix or name), every instance of a type (--type), or the whole pool: isHealthy becomes true, errorCount 0, and a rate-limit cooldown ends.'
  static override examples = [
    '<%= config.bin %> pool reset',
    '<%= config.bin %> pool reset --type openai-custom',
    '<%= config.bin %> pool reset 2f579c65',
  ]
  static override enableJsonFlag = true
  static override args = {instance: Args.string({description: 'uuid, uuid prefix or name (default: all)'})}
  static override flags = {type: Flags.string({description: 'only this provider type'})}

  async run() {
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const changed = await resetInstances(await this.poolStore(), this.args.instance, type)
    this.log(`Reset ${changed.length} instance${changed.length === 1 ? '' : 's'}.`)
    return {reset: changed.map((i) => ({type: i.type, uuid: i.uuid, name: i.name}))}
  }
}
