import type {LiveInstance} from './live-instance.js'
import type {PoolInstance} from './types.js'

/** At its `concurrencyLimit` (0 is none): selection passes it by until one of its requests ends. */
export function atLimit(live: LiveInstance): boolean {
  const limit = live.config.concurrencyLimit
  return limit > 0 && live.inFlight >= limit
}

/**
 * Whether the instance serves `model`: named by `supportedModels` when that list is set, and not named by
 * `notSupportedModels`. A `*` in a name matches any run of characters (`claude-*`).
 */
export function servesModel(config: Pick<PoolInstance, 'supportedModels' | 'notSupportedModels'>, model: string) {
  const {supportedModels, notSupportedModels} = config
  if (supportedModels && !supportedModels.some((pattern) => matches(pattern, model))) return false
  return !notSupportedModels?.some((pattern) => matches(pattern, model))
}

function matches(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern === model
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`).test(model)
}
