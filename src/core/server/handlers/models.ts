import {request, type Dispatcher} from 'undici'
import type {Protocol} from '../../codecs/types.js'
import {discard, readLimited} from '../../http/body.js'
import type {ProviderType} from '../../pools/types.js'
import {FALLBACK_MODELS} from '../../providers/models.js'
import type {Handler, HandlerDeps} from '../handler.js'
import {headerType} from '../resolve-type.js'

/**
 * The model list in the client's protocol: of the type the request names (path prefix, Model-Provider header,
 * default), or of every configured type with `type:` prefixes when several are.
 */
export const models: Handler<'models'> = async (deps, {route, typePrefix, headers}) => {
  const protocol: Protocol = route.protocol !== 'auto' ? route.protocol : headers['anthropic-version'] || headers['x-api-key'] ? 'anthropic' : 'openai'
  const header = headerType(headers['model-provider'])
  const chosen = typePrefix ?? header ?? deps.defaultType
  const types = chosen ? [chosen] : deps.state.types()
  const lists = await Promise.all(types.map(async (type) => (await modelsOf(deps, type)).map((id) => (chosen || types.length === 1 ? id : `${type}:${id}`))))
  return {kind: 'json', status: 200, body: deps.codecs[protocol].modelList(lists.flat())}
}

/** Asks one healthy instance of the type; falls back to the built-in list when none answers. */
async function modelsOf(deps: HandlerDeps, type: ProviderType): Promise<string[]> {
  const adapter = deps.adapters[type]
  // A side request records no outcome, so it never takes an instance's half-open trial.
  const live = deps.state.pick(type)
  if (!adapter?.modelsCall || !adapter.modelIds || !live) return FALLBACK_MODELS[type]
  let response: Dispatcher.ResponseData | undefined
  try {
    const call = await adapter.modelsCall(live.config)
    response = await request(call.url, {method: 'GET', headers: call.headers, dispatcher: call.dispatcher, signal: AbortSignal.timeout(10_000)})
    if (response.statusCode === 200) {
      const bytes = await readLimited(response.body, deps.responseLimitBytes)
      const ids = bytes ? adapter.modelIds(JSON.parse(bytes.toString('utf8'))) : []
      if (ids.length > 0) return ids
    } else {
      await response.body.dump()
    }
  } catch {
    // The list is a convenience: an upstream without one still serves chat.
  } finally {
    if (response) discard(response.body)
  }
  return FALLBACK_MODELS[type]
}
