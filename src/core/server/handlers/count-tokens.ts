import type {IncomingHttpHeaders} from 'node:http'
import type {Protocol} from '../../codecs/types.js'
import {errorMessage} from '../../errors.js'
import {HttpStatusError} from '../../http-status-error.js'
import type {ProviderType} from '../../pools/types.js'
import {estimateInputTokens} from '../../proxy/estimate.js'
import {countTokensUpstream, type CountRequest} from '../../providers/side-calls.js'
import {requestType, type Handler, type HandlerDeps, type Reply} from '../handler.js'
import {HttpError} from '../http-error.js'
import {parseJsonBody, requiredModel, streamFlag} from '../request-json.js'

/**
 * Anthropic's count_tokens: asked of an upstream that can count (claude-custom), otherwise estimated from the
 * request (characters / 4). The `x-aiclient-token-count` header says which.
 */
export const countTokens: Handler<'count_tokens'> = async (deps, {typePrefix, headers, body}): Promise<Reply> => {
  const json = parseJsonBody(body)
  // Checked as for chat, though counting never streams.
  streamFlag(json)
  const rawModel = requiredModel(json.model)
  const {type, model} = requestType(deps, {typePrefix, headers}, rawModel)
  const counted = await upstreamCount(deps, type, {model, clientProtocol: 'anthropic', headers}, (sent) => ({
    json,
    body: sent === rawModel ? body : JSON.stringify({...json, model: sent}),
  }))
  if (counted !== undefined)
    return {
      kind: 'text',
      status: 200,
      text: counted,
      headers: {'content-type': 'application/json', 'x-aiclient-token-count': 'upstream'},
    }
  return {
    kind: 'json',
    status: 200,
    body: {input_tokens: estimatedTokens(deps, 'anthropic', json)},
    headers: {'x-aiclient-token-count': 'estimate'},
  }
}

/** Our estimate for a request in `protocol` (see estimateInputTokens); a request that does not decode is a 400. */
export function estimatedTokens(
  deps: HandlerDeps,
  protocol: Protocol,
  json: Record<string, unknown>,
  model?: string,
): number {
  try {
    return estimateInputTokens(deps.codecs[protocol].decodeRequest(json, model === undefined ? {} : {model}))
  } catch (error) {
    throw error instanceof HttpStatusError ? error : new HttpError(400, errorMessage(error))
  }
}

/** The upstream's own count, as the JSON text it answered; undefined when the type cannot count or it failed. */
export async function upstreamCount(
  deps: HandlerDeps,
  type: ProviderType,
  {model, clientProtocol, headers}: {model: string; clientProtocol: Protocol; headers: IncomingHttpHeaders},
  requestFor: (model: string) => CountRequest,
): Promise<string | undefined> {
  const adapter = deps.adapters[type]
  // A side request records no outcome, so it never takes an instance's half-open trial.
  const live = deps.state.pick(type)
  if (!adapter || !live) return undefined
  // The instance counts for the model it would be sent, as chat does.
  const sent = deps.proxy.modelAliases?.resolve(type, live.config.raw.modelAliases, model) ?? model
  // Counting is advisory: without an upstream count, the estimate answers rather than fail the client.
  const ctx = {stream: false, model: sent, clientProtocol, clientHeaders: headers}
  return countTokensUpstream(adapter, live.config, ctx, requestFor(sent), {
    timeoutMs: 30_000,
    limitBytes: deps.errorBodyLimitBytes,
  })
}
