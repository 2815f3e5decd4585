import {responseSink} from '../../http/client-sink.js'
import {proxyRequest} from '../../proxy/proxy.js'
import {requestType, type Handler} from '../handler.js'
import {parseJsonBody, requiredModel, streamFlag} from '../request-json.js'
import {serveResponses} from '../responses/serve.js'

/** A chat call in any client protocol, run through the attempt loop, which relays the answer itself. */
export const chat: Handler<'chat'> = async (deps, {route, pathname, searchParams, typePrefix, headers, body, res}) => {
  const json = parseJsonBody(body)
  if (route.protocol === 'responses') {
    const request = {json, body, pathname, typePrefix, headers}
    deps.onRecord?.(await serveResponses(deps, request, responseSink(res), deps.responses))
    return {kind: 'relayed'}
  }
  // Passed through as sent, a "stream" we read one way and a lenient upstream another breaks the answer.
  const stream = route.stream ?? streamFlag(json)
  const rawModel = requiredModel(route.model ?? json.model)
  const {type, model} = requestType(deps, {typePrefix, headers}, rawModel)
  const record = await proxyRequest(
    deps.proxy,
    {
      route:
        route.protocol === 'gemini'
          ? `/v1beta/models/…:${route.stream ? 'streamGenerateContent' : 'generateContent'}`
          : pathname,
      protocol: route.protocol,
      type,
      body,
      json,
      model,
      modelRewritten: route.protocol !== 'gemini' && model !== rawModel,
      stream,
      headers,
      // The Anthropic SDK's beta client adds ?beta=true; an Anthropic upstream gets it as the client sent it.
      ...(searchParams?.has('beta') && {beta: searchParams.get('beta') ?? ''}),
    },
    responseSink(res),
  )
  deps.onRecord?.(record)
  return {kind: 'relayed'}
}
