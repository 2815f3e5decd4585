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
  if (!isPlainObject(value)) return `must be an object of provider type → list of provider types, not ${show(value)}`
  for (const [from, list] of Object.entries(value)) {
    if (!Array.isArray(list)) return `.${from} must be a list of provider types, not ${show(list)}`
    for (const to of list) {
      if (typeof to !== 'string' || to === '') return `.${from} must list provider types, not ${show(to)}`
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
    if (typeof type !== 'string' || type === '')
      return `${at}.targetProviderType must be a provider type, not ${show(type)}`
    if (typeof targetModel !== 'string' || targetModel === '')
      return `${at}.targetModel must be a model name, not ${show(targetModel)}`
  }
  return undefined
}

/**
 * The fallbacks among the types aiclient serves. AIClient-2-API's own config.json names types aiclient does not have
 * (gemini-antigravity, …); a file both tools read must load here, so entries with such a type are left out, and the
 * types returned for a warning.
 */
export function servedFallbacks(
  chain: Record<string, string[]>,
  models: Record<string, {targetProviderType: string; targetModel: string}>,
): {fallbacks: Fallbacks; unknown: string[]} {
  const unknown = new Set<string>()
  const served = (type: string): type is ProviderType => isProviderType(type) || (unknown.add(type), false)
  const servedChain: ProviderFallbackChain = {}
  for (const [from, list] of Object.entries(chain)) {
    const targets = list.filter(served)
    if (served(from) && targets.length > 0) servedChain[from] = targets
  }
  const servedModels: ModelFallbackMapping = {}
  for (const [model, {targetProviderType, targetModel}] of Object.entries(models))
    if (served(targetProviderType)) servedModels[model] = {targetProviderType, targetModel}
  return {fallbacks: {chain: servedChain, models: servedModels}, unknown: [...unknown]}
}

/** What config.json's fallbacks name that aiclient does not serve, as a warning. */
export function unservedWarning(unknown: string[]): string {
  const names = unknown.map((type) => JSON.stringify(type)).join(', ')
  return (
    `config.json: providerFallbackChain / modelFallbackMapping name ${names}, which aiclient does not serve; ` +
    `those entries are ignored. Valid types: ${PROVIDER_TYPES.join(', ')}.`
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}
