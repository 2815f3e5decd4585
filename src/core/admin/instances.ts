import {runChecks, type CheckEntry} from '../health/check.js'
import type {ProbeOptions} from '../health/probe.js'
import {findInstance} from '../pools/lookup.js'
import {resetInstances, setDisabled} from '../pools/operations.js'
import type {LiveInstance, PoolState} from '../pools/pool-state.js'
import {instancePath} from '../pools/schema.js'
import type {PoolStore} from '../pools/store.js'
import type {PoolSync} from '../pools/sync.js'
import type {Adapters} from '../providers/index.js'

/** What changing a running pool needs: its state, its file and the sync that brings the file's edits back in. */
export interface ManagedPool {
  state: PoolState
  store: PoolStore
  sync: PoolSync
}

/**
 * The running instance a reference names, looked up as `aiclient pool …` looks it up (uuid, name, unique uuid
 * prefix, `type[index]`); throws the CLI's UsageError (`instance_not_found`, `ambiguous_instance`) otherwise.
 */
export function findLive(state: PoolState, ref: string): LiveInstance {
  return state.get(
    findInstance(
      state.list().map((live) => live.config),
      ref,
    ).id,
  )!
}

/** The reference the pool operations get: the uuid, or the position when a hand-copied entry repeats the uuid. */
function refOf(state: PoolState, live: LiveInstance): string {
  return state.list(live.config.type).some((other) => other !== live && other.config.uuid === live.config.uuid)
    ? instancePath(live.config)
    : live.config.uuid
}

/**
 * The changes the board's keys and the management API make act through the same operations as `aiclient pool …`,
 * so that the pool file changes exactly as with the CLI; the file is then read back at once instead of at the next
 * poll.
 */
export async function setInstanceDisabled(pool: ManagedPool, live: LiveInstance, disabled: boolean): Promise<void> {
  await setDisabled(pool.store, refOf(pool.state, live), disabled, live.config.type)
  await pool.sync.reload()
}

export async function resetInstance(pool: ManagedPool, live: LiveInstance): Promise<void> {
  await resetInstances(pool.store, refOf(pool.state, live), live.config.type)
  await pool.sync.reload()
  // A turn for the worse not written yet leaves the file as it was, so the read-back alone would not undo it.
  pool.state.markHealthy(live)
}

/** `aiclient pool check` on one instance: probed, the verdict written to the file, and read back. */
export async function checkInstance(
  pool: ManagedPool & {adapters: Adapters},
  live: LiveInstance,
  options: Omit<ProbeOptions, 'signal'> & {defaultCooldownMs: number},
): Promise<CheckEntry> {
  const [entry] = await runChecks(pool.store, pool.adapters, {
    ...options,
    refs: [refOf(pool.state, live)],
    type: live.config.type,
    concurrency: 1,
  })
  await pool.sync.reload()
  return entry!
}
