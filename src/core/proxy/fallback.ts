import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'

/** config.json `providerFallbackChain` (AIClient-2-API's name and shape): the types tried, in order, after a type. */
export type ProviderFallbackChain = Partial<Record<ProviderType, ProviderType[]>>

/** config.json `modelFallbackMapping` (AIClient-2-API's): where a model's requests go when their type cannot serve. */
export type ModelFallbackMapping = Record<string, {targetProviderType: ProviderType; targetModel: string}>

export interface Fallbacks {
  chain: ProviderFallbackChain
  models: ModelFallbackMapping
}

/** One type to serve a request from, and the model its upstream is asked for (before that type's aliases). */
export interface Route {
  type: ProviderType
  model: string
}

/**
 * The routes after the requested one, in the order they are tried: the type's chain, then the model's mapping.
 * A chain is not followed from a fallback type to its own chain, so two types naming each other cannot loop; a
 * type is tried once per model, and a type with no instance to serve is left out.
 */
export function fallbackRoutes(
  requested: Route,
  fallbacks: Fallbacks,
  hasInstances: (type: ProviderType) => boolean,
): Route[] {
  const candidates: Route[] = (fallbacks.chain[requested.type] ?? []).map((type) => ({type, model: requested.model}))
  const mapped = fallbacks.models[requested.model]
  if (mapped) candidates.push({type: mapped.targetProviderType, model: mapped.targetModel})
  const seen = new Set([`${requested.type}\n${requested.model}`])
  return candidates.filter((route) => {
    const key = `${route.type}\n${route.model}`
    if (seen.has(key) || !hasInstances(route.type)) return false
    seen.add(key)
    return true
  })
}

/** The first thing wrong with `providerFallbackChain`, as a sentence, or undefined. */
export function fallbackChainProblem(value: unknown): string | undefined {
  const types = PROVIDER_TYPES.join(', ')
  if (!isPlainObject(value)) return `must be an object of provider type → list of provider types, not ${show(value)}`
  for (const [from, list] of Object.entries(value)) {
    if (!isProviderType(from)) return `names an unknown provider type "${from}". Valid types: ${types}`
    if (!Array.isArray(list)) return `.${from} must be a list of provider types, not ${show(list)}`
    for (const to of list) {
      if (typeof to !== 'string' || !isProviderType(to))
        return `.${from} names an unknown provider type ${show(to)}. Valid types: ${types}`
      if (to === from) return `.${from} names its own type; a type cannot fall back to itself`
    }
  }
  return undefined
}

/** The first thing wrong with `modelFallbackMapping`, as a sentence, or undefined. */
export function modelFallbackProblem(value: unknown): string | undefined {
  const shape = `{"targetProviderType": "<provider type>", "targetModel": "<model>"}`
  if (!isPlainObject(value)) return `must be an object of model name → ${shape}, not ${show(value)}`
  for (const [model, target] of Object.entries(value)) {
    const at = `[${JSON.stringify(model)}]`
    if (!isPlainObject(target)) return `${at} must be ${shape}, not ${show(target)}`
    const {targetProviderType: type, targetModel} = target
    if (typeof type !== 'string' || !isProviderType(type))
      return `${at}.targetProviderType must be a provider type, not ${show(type)}. Valid types: ${PROVIDER_TYPES.join(', ')}`
    if (typeof targetModel !== 'string' || targetModel === '')
      return `${at}.targetModel must be a model name, not ${show(targetModel)}`
  }
  return undefined
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}
