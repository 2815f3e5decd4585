import {namePattern} from '../models/aliases.js'
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

// Selection asks on every request for every candidate: each pattern of the pool file is compiled once.
const compiled = new Map<string, RegExp>()

function matches(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern === model
  let regex = compiled.get(pattern)
  if (!regex) compiled.set(pattern, (regex = namePattern(pattern)))
  return regex.test(model)
}
