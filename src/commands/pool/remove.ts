import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {CancelledError, UsageError} from '../../core/errors.js'
import {describeInstance} from '../../core/pools/lookup.js'
import {parseProviderType, removeInstance, resolveInstance} from '../../core/pools/operations.js'
import {confirm} from '../../prompt.js'

export default class PoolRemove extends BaseCommand<typeof PoolRemove> {
  static override summary = 'Remove an instance from the pool'
  static override description =
    'Removes the instance named by its uuid, a unique uuid prefix (6+ characters) or its name. Asks for confirmation in a terminal; scripts must pass --force.'
  static override examples = ['<%= config.bin %> pool remove 2f579c65', '<%= config.bin %> pool remove work --force']
  static override enableJsonFlag = true
  static override args = {instance: Args.string({description: 'uuid, uuid prefix or name', required: true})}
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation (required without a terminal)'}),
    type: Flags.string({description: 'look the instance up only in this provider type'}),
  }

  async run() {
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const store = await this.poolStore()
    if (!this.flags.force) {
      if (!this.interactive() || this.jsonEnabled()) {
        throw new UsageError(
          'Refusing to remove an instance without confirmation: no terminal to ask on. Re-run with --force.',
          {code: 'needs_force'},
        )
      }
      const target = await resolveInstance(store, this.args.instance, type)
      if (!(await confirm(`Remove ${describeInstance(target)} from ${store.file}?`)))
        throw new CancelledError('Nothing was removed.')
    }
    const [removed] = await removeInstance(store, this.args.instance, type)
    this.log(`Removed ${describeInstance(removed!)}.`)
    return {removed: {type: removed!.type, uuid: removed!.uuid, name: removed!.name}}
  }
}
