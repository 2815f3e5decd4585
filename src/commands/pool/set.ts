import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {UsageError} from '../../core/errors.js'
import {describeInstance} from '../../core/pools/lookup.js'
import {describeRoutingFields, parseProviderType, parseRoutingFlags, setRouting} from '../../core/pools/operations.js'
import {ROUTING_FLAGS} from '../../routing-flags.js'

export default class PoolSet extends BaseCommand<typeof PoolSet> {
  static override summary = "Change an instance's routing: priority, weight, limits, models"
  static override description =
    'Writes the given routing fields of one instance (by uuid, uuid prefix, name or position such as openai-custom[2]): priority, weight, concurrencyLimit, queueLimit, supportedModels, notSupportedModels. Every other field of its entry stays as it is. A running `serve` routes by the new values within a second.'
  static override examples = [
    '<%= config.bin %> pool set work --priority 10',
    '<%= config.bin %> pool set 2f579c65 --weight 3',
    '<%= config.bin %> pool set paid-backup --priority=-1 --weight 0 --json',
    '<%= config.bin %> pool set work --concurrency-limit 2 --queue-limit 4',
    '<%= config.bin %> pool set work --not-supported-models "claude-opus-*,o3"',
    '<%= config.bin %> pool set work --supported-models ""',
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
      throw new UsageError(
        'Nothing to set: pass one or more of --priority, --weight, --concurrency-limit, --queue-limit, --supported-models, --not-supported-models.',
        {code: 'missing_flag'},
      )
    const [changed] = await setRouting(await this.poolStore(), this.args.instance, fields, type)
    const set = describeRoutingFields(fields)
    this.log(
      `Set ${set.slice(0, -1).join(', ')}${set.length > 1 ? ' and ' : ''}${set.at(-1)} on ${describeInstance(changed!)}.`,
    )
    const instance = changed!
    return {
      type: instance.type,
      uuid: instance.uuid,
      name: instance.name,
      priority: instance.priority,
      weight: instance.weight,
      concurrencyLimit: instance.concurrencyLimit,
      queueLimit: instance.queueLimit,
      supportedModels: instance.supportedModels,
      notSupportedModels: instance.notSupportedModels,
    }
  }
}
