import type {IncomingHttpHeaders} from 'node:http'
import {errorMessage} from '../../errors.js'
import {HttpStatusError} from '../../http-status-error.js'
import type {ProviderType} from '../../pools/types.js'
import {estimateInputTokens} from '../../proxy/estimate.js'
import {countTokensUpstream} from '../../providers/side-calls.js'
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
  const counted = await upstreamCount(deps, type, model, headers, (sent) =>
    sent === rawModel ? body : JSON.stringify({...json, model: sent}),
  )
  if (counted !== undefined)
    return {
      kind: 'text',
      status: 200,
      text: counted,
      headers: {'content-type': 'application/json', 'x-aiclient-token-count': 'upstream'},
    }
  let ir
  try {
    ir = deps.codecs.anthropic.decodeRequest(json)
  } catch (error) {
    throw error instanceof HttpStatusError ? error : new HttpError(400, errorMessage(error))
  }
  return {
    kind: 'json',
    status: 200,
    body: {input_tokens: estimateInputTokens(ir)},
    headers: {'x-aiclient-token-count': 'estimate'},
  }
}

/** The upstream's own count, as the JSON text it answered; undefined when the type cannot count or it failed. */
async function upstreamCount(
  deps: HandlerDeps,
  type: ProviderType,
  model: string,
  headers: IncomingHttpHeaders,
  bodyFor: (model: string) => Buffer | string,
): Promise<string | undefined> {
  const adapter = deps.adapters[type]
  // A side request records no outcome, so it never takes an instance's half-open trial.
  const live = deps.state.pick(type)
  if (!adapter || !live) return undefined
  // The instance counts for the model it would be sent, as chat does.
  const sent = deps.proxy.modelAliases?.resolve(type, live.config.raw.modelAliases, model) ?? model
  // Counting is advisory: without an upstream count, the estimate answers rather than fail the client.
  const ctx = {stream: false, model: sent, clientProtocol: 'anthropic' as const, clientHeaders: headers}
  return countTokensUpstream(adapter, live.config, ctx, bodyFor(sent), {
    timeoutMs: 30_000,
    limitBytes: deps.errorBodyLimitBytes,
  })
}
