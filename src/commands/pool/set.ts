import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {UsageError} from '../../core/errors.js'
import {describeInstance} from '../../core/pools/lookup.js'
import {parseProviderType, parseRoutingFlags, setRouting} from '../../core/pools/operations.js'
import {ROUTING_FLAGS} from '../../routing-flags.js'

export default class PoolSet extends BaseCommand<typeof PoolSet> {
  static override summary = "Change an instance's priority or weight"
  static override description =
    'Writes the priority and/or weight of one instance (by uuid, uuid prefix, name or position such as openai-custom[2]); every other field of its entry stays as it is. A running `serve` routes by the new values within a second.'
  static override examples = [
    '<%= config.bin %> pool set work --priority 10',
    '<%= config.bin %> pool set 2f579c65 --weight 3',
    '<%= config.bin %> pool set paid-backup --priority=-1 --weight 0 --json',
  ]
  static override enableJsonFlag = true
  static override args = {instance: Args.string({description: 'uuid, uuid prefix or name', required: true})}
  static override flags = {
    ...ROUTING_FLAGS,
    type: Flags.string({description: 'look the instance up only in this provider type'}),
  }

  async run() {
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const fields = parseRoutingFlags(this.flags)
    if (Object.keys(fields).length === 0)
      throw new UsageError('Nothing to set: pass --priority N, --weight N or both.', {code: 'missing_flag'})
    const [changed] = await setRouting(await this.poolStore(), this.args.instance, fields, type)
    const set = Object.entries(fields).map(([name, value]) => `${name} ${value}`)
    this.log(`Set ${set.join(' and ')} on ${describeInstance(changed!)}.`)
    return {
      type: changed!.type,
      uuid: changed!.uuid,
      name: changed!.name,
      priority: changed!.priority,
      weight: changed!.weight,
    }
  }
}
