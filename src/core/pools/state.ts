import type {PoolInstance} from './types.js'

export type InstanceStateName = 'healthy' | 'cooling' | 'unhealthy' | 'disabled'

/** The state a person reads in `pool list`; `cooldownUntil` is persisted by `serve` so the CLI can show it too. */
export function persistedState(instance: PoolInstance, now: number): InstanceStateName {
  if (instance.isDisabled) return 'disabled'
  if (!instance.isHealthy) return 'unhealthy'
  const until = instance.raw.cooldownUntil
  if (typeof until === 'string' && Date.parse(until) > now) return 'cooling'
  return 'healthy'
}
