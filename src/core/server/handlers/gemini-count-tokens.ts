import {field} from '../../codecs/gemini-common.js'
import {requestType, type Handler} from '../handler.js'
import {HttpError} from '../http-error.js'
import {parseJsonBody} from '../request-json.js'
import {estimatedTokens, upstreamCount} from './count-tokens.js'

/**
 * Gemini's `models/{model}:countTokens`: asked of an upstream that counts Gemini requests (Code Assist's
 * countTokens), otherwise our estimate, as for Anthropic's count_tokens; `x-aiclient-token-count` says which.
 */
export const geminiCountTokens: Handler<'gemini_count_tokens'> = async (deps, {route, typePrefix, headers, body}) => {
  const request = countedRequest(parseJsonBody(body))
  const {type, model} = requestType(deps, {typePrefix, headers}, route.model)
  const answer = await upstreamCount(
    deps,
    type,
    {model, clientProtocol: 'gemini', headers},
    // Gemini names the model in the path, which the count call builds; the body is the same for every name.
    () => ({json: request, body: JSON.stringify(request)}),
  )
  const counted = totalTokens(answer)
  if (counted !== undefined)
    return {kind: 'json', status: 200, body: {totalTokens: counted}, headers: {'x-aiclient-token-count': 'upstream'}}
  return {
    kind: 'json',
    status: 200,
    body: {totalTokens: estimatedTokens(deps, 'gemini', request, model)},
    headers: {'x-aiclient-token-count': 'estimate'},
  }
}

/** The request to count: countTokens takes bare `contents` or a whole `generateContentRequest`. */
function countedRequest(json: Record<string, unknown>): Record<string, unknown> {
  const whole = field(json, 'generateContentRequest')
  if (whole === undefined) return json
  if (!whole || typeof whole !== 'object' || Array.isArray(whole))
    throw new HttpError(400, 'generateContentRequest must be an object.')
  return whole as Record<string, unknown>
}

/** The count in an upstream's answer; undefined when there is no answer or it carries no count. */
function totalTokens(answer: string | undefined): number | undefined {
  if (answer === undefined) return undefined
  try {
    const total = (JSON.parse(answer) as {totalTokens?: unknown}).totalTokens
    return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : undefined
  } catch {
    return undefined
  }
}
