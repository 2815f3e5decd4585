import type {Protocol} from '../../codecs/types.js'
import type {ProviderType} from '../../pools/types.js'
import {FALLBACK_MODELS} from '../../providers/models.js'
import {listModels} from '../../providers/side-calls.js'
import type {Handler, HandlerDeps} from '../handler.js'
import {headerType} from '../resolve-type.js'

/**
 * The model list in the client's protocol: of the type the request names (path prefix, Model-Provider header,
 * default), or of every configured type with `type:` prefixes when several are.
 */
export const models: Handler<'models'> = async (deps, {route, typePrefix, headers}) => {
  const protocol: Protocol =
    route.protocol !== 'auto'
      ? route.protocol
      : headers['anthropic-version'] || headers['x-api-key']
        ? 'anthropic'
        : 'openai'
  const header = headerType(headers['model-provider'])
  const chosen = typePrefix ?? header ?? deps.defaultType
  const types = chosen ? [chosen] : deps.state.types()
  const lists = await Promise.all(
    types.map(async (type) =>
      (await modelsOf(deps, type)).map((id) => (chosen || types.length === 1 ? id : `${type}:${id}`)),
    ),
  )
  return {kind: 'json', status: 200, body: deps.codecs[protocol].modelList(lists.flat())}
}

/**
 * Asks one healthy instance of the type, or falls back to the built-in list when none answers; then the alias names
 * (MODEL_ALIASES' and the instances' own), which fixed model pickers can offer only when they are listed.
 */
async function modelsOf(deps: HandlerDeps, type: ProviderType): Promise<string[]> {
  const upstream = await upstreamModels(deps, type)
  const aliases = deps.proxy.modelAliases?.names(
    type,
    deps.state.list(type).map((live) => live.config.raw.modelAliases),
  )
  return aliases?.length ? [...new Set([...upstream, ...aliases])] : upstream
}

async function upstreamModels(deps: HandlerDeps, type: ProviderType): Promise<string[]> {
  const adapter = deps.adapters[type]
  // A side request records no outcome, so it never takes an instance's half-open trial.
  const live = deps.state.pick(type)
  // The list is a convenience: an upstream without one still serves chat.
  const ids =
    adapter && live
      ? await listModels(adapter, live.config, {timeoutMs: 10_000, limitBytes: deps.responseLimitBytes})
      : undefined
  return ids ?? FALLBACK_MODELS[type]
}
