import {EventEmitter} from 'node:events'
import type {InstanceStateName, LiveInstance} from './live-instance.js'
import type {PoolInstance, ProviderType} from './types.js'

export type PoolEvent =
  | {type: 'health'; instance: LiveInstance; state: InstanceStateName; reason: string | null}
  | {type: 'changed'}
  | {type: 'probe'; instance: LiveInstance; healthy: boolean; reason: string | null}

/** What the pool tells its consumers (the board, the log, the health monitor, the persister). */
export interface PoolEvents {
  event: [PoolEvent]
  /** Something changed that the file should get; fired per change, so listeners coalesce. */
  dirty: []
}

/** How a fresh read of the file meets the instances already held. */
export interface Membership {
  create(config: PoolInstance): LiveInstance
  /** Takes in the file's view of an instance that is already held (or was just created). */
  adopt(live: LiveInstance, config: PoolInstance): void
  removed(id: string): void
}

/** The live instances by id and by type, in the file's order, and the events about them. */
export class InstanceRegistry extends EventEmitter<PoolEvents> {
  private readonly byId = new Map<string, LiveInstance>()
  private readonly byType = new Map<ProviderType, LiveInstance[]>()

  /**
   * Merges a fresh read of the file: new instances appear, removed ones go, the others adopt the file's entry.
   * Instances are matched by id, which tells apart entries that share a uuid (see PoolInstance.id).
   */
  protected replace(instances: PoolInstance[], membership: Membership): void {
    const seen = new Set<string>()
    const lists = new Map<ProviderType, LiveInstance[]>()
    for (const config of instances) {
      const {id} = config
      seen.add(id)
      const live = this.byId.get(id) ?? membership.create(config)
      membership.adopt(live, config)
      this.byId.set(id, live)
      lists.set(config.type, [...(lists.get(config.type) ?? []), live])
    }
    for (const id of [...this.byId.keys()]) {
      if (seen.has(id)) continue
      this.byId.delete(id)
      membership.removed(id)
    }
    this.byType.clear()
    for (const [type, list] of lists) this.byType.set(type, list)
    this.emit('event', {type: 'changed'})
  }

  list(type?: ProviderType): LiveInstance[] {
    return type ? (this.byType.get(type) ?? []) : [...this.byId.values()]
  }

  types(): ProviderType[] {
    return [...this.byType.keys()].filter((type) => (this.byType.get(type)?.length ?? 0) > 0)
  }

  get(id: string): LiveInstance | undefined {
    return this.byId.get(id)
  }
}
