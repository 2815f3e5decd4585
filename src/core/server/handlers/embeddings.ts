import {responseSink} from '../../http/client-sink.js'
import {proxyRequest} from '../../proxy/proxy.js'
import {requestType, type Handler} from '../handler.js'
import {parseJsonBody, requiredModel} from '../request-json.js'

/**
 * OpenAI's `POST /v1/embeddings`, through the pool like chat (selection, failover, health, the record) and passed
 * through as sent to the types that have the endpoint; the attempt loop refuses the others.
 */
export const embeddings: Handler<'embeddings'> = async (deps, {pathname, typePrefix, headers, body, res}) => {
  const json = parseJsonBody(body)
  const rawModel = requiredModel(json.model)
  const {type, model} = requestType(deps, {typePrefix, headers}, rawModel)
  const call = {route: pathname, protocol: 'openai' as const, type, body, json, model, headers}
  const record = await proxyRequest(
    deps.proxy,
    {...call, modelRewritten: model !== rawModel, stream: false, operation: 'embeddings'},
    responseSink(res),
  )
  deps.onRecord?.(record)
  return {kind: 'relayed'}
}
