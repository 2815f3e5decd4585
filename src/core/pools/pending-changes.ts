import {addTotals, addUsage, isZero, zeroTotals, type TokenTotals} from '../usage/totals.js'
import type {TokenUsage} from '../usage/tokens.js'
import {parseTime, type LiveInstance} from './live-instance.js'
import type {PoolInstance} from './types.js'

/** Fields `serve` owns and writes back; everything else in the file belongs to the user and the CLI. */
export type OwnedField =
  'isHealthy' | 'lastErrorReason' | 'cooldownUntil' | 'lastUsed' | 'lastErrorTime' | 'lastHealthCheckTime' | 'quota'

/** One instance's unwritten changes: counter increments to add to the file's, and owned fields to set. */
export interface InstanceChanges {
  usage: number
  errors: number
  /** Tokens to add to the entry's token fields. */
  tokens: TokenTotals
  fields: Partial<Record<OwnedField, unknown>>
}

/** Unwritten changes by instance id, as `drain` hands them to the writer. */
export type ChangeSet = Map<string, InstanceChanges>

interface Entry {
  usage: number
  errors: number
  tokens: TokenTotals
  fields: Set<OwnedField>
  /** The file's isHealthy and cooldownUntil as last seen, to tell an outside `pool reset` from our own writes. */
  diskHealthy: boolean
  diskCooldown: number
}

/**
 * The ledger of what `serve` has changed and not yet written to provider_pools.json, and of what the file said when
 * last read or written. PoolSync drains it into a write, gives it back if the write fails, and confirms it after.
 */
export class PendingChanges {
  private readonly entries = new Map<string, Entry>()

  /** Starts the book of an instance from the file's entry. */
  open(config: PoolInstance): void {
    const diskCooldown = parseTime(config.raw.cooldownUntil)
    this.entries.set(config.id, {
      usage: 0,
      errors: 0,
      tokens: zeroTotals(),
      fields: new Set(),
      diskHealthy: config.isHealthy,
      diskCooldown,
    })
  }

  /** The instance left the file: what it had not written goes with it. */
  forget(id: string): void {
    this.entries.delete(id)
  }

  record(id: string, change: {usage: number; errors: number; fields: readonly OwnedField[]}): void {
    const entry = this.entries.get(id)
    if (!entry) return
    entry.usage += change.usage
    entry.errors += change.errors
    for (const field of change.fields) entry.fields.add(field)
  }

  countTokens(id: string, usage: TokenUsage): void {
    const entry = this.entries.get(id)
    if (entry) addUsage(entry.tokens, usage)
  }

  /** Counter increments not written yet, which a fresh read of the file does not hold. */
  unwritten(id: string): {usage: number; errors: number; tokens: TokenTotals} {
    const entry = this.entries.get(id)
    return {usage: entry?.usage ?? 0, errors: entry?.errors ?? 0, tokens: entry?.tokens ?? zeroTotals()}
  }

  /** Whether the file's isHealthy was changed by someone else, to a value that differs from ours. */
  healthEditedOutside(live: LiveInstance, config: PoolInstance): boolean {
    const entry = this.entries.get(live.id)
    if (!entry) return false
    const edited =
      config.isHealthy !== entry.diskHealthy && !entry.fields.has('isHealthy') && config.isHealthy !== live.healthy
    entry.diskHealthy = config.isHealthy
    return edited
  }

  /** The cooldown end someone else wrote to the file (`pool reset` clears it), if any; it replaces ours. */
  cooldownEditedOutside(live: LiveInstance, config: PoolInstance): number | undefined {
    const entry = this.entries.get(live.id)
    if (!entry) return undefined
    const disk = parseTime(config.raw.cooldownUntil)
    const edited = disk !== entry.diskCooldown && disk !== live.cooldownUntil && !entry.fields.has('cooldownUntil')
    entry.diskCooldown = disk
    return edited ? disk : undefined
  }

  /** Takes the unwritten changes, for the writer; they are given back with `restore` if the write fails. */
  drain(lookup: (id: string) => LiveInstance | undefined): ChangeSet {
    const out: ChangeSet = new Map()
    for (const [id, entry] of this.entries) {
      const live = lookup(id)
      if (!live || (entry.usage === 0 && entry.errors === 0 && entry.fields.size === 0 && isZero(entry.tokens)))
        continue
      const fields: InstanceChanges['fields'] = {}
      for (const field of entry.fields) fields[field] = ownedValue(live, field)
      out.set(id, {usage: entry.usage, errors: entry.errors, tokens: entry.tokens, fields})
      entry.usage = 0
      entry.errors = 0
      entry.tokens = zeroTotals()
      entry.fields = new Set()
    }
    return out
  }

  /** The write failed: the changes are unwritten again, and go with the next one. */
  restore(changes: ChangeSet): void {
    for (const [id, change] of changes) {
      this.record(id, {...change, fields: Object.keys(change.fields) as OwnedField[]})
      const entry = this.entries.get(id)
      if (entry) addTotals(entry.tokens, change.tokens)
    }
  }

  /** After a successful write: the file now says what we wrote, so a later difference is someone else's edit. */
  committed(changes: ChangeSet): void {
    for (const [id, change] of changes) {
      const entry = this.entries.get(id)
      if (!entry) continue
      if (typeof change.fields.isHealthy === 'boolean') entry.diskHealthy = change.fields.isHealthy
      if ('cooldownUntil' in change.fields) entry.diskCooldown = parseTime(change.fields.cooldownUntil)
    }
  }
}

/** An owned field's value as the file stores it. */
function ownedValue(live: LiveInstance, field: OwnedField): unknown {
  switch (field) {
    case 'isHealthy':
      return live.healthy
    case 'lastErrorReason':
      return live.reason
    case 'cooldownUntil':
      return live.cooldownUntil > 0 ? new Date(live.cooldownUntil).toISOString() : null
    case 'lastUsed':
      return live.lastUsedAt === null ? null : new Date(live.lastUsedAt).toISOString()
    case 'lastErrorTime':
      return live.lastErrorTime
    case 'lastHealthCheckTime':
      return live.lastHealthCheckTime
    case 'quota':
      return live.quota
  }
}
