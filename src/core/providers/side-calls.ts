import type {Dispatcher} from 'undici'
import {discard, readLimited, readText} from '../http/body.js'
import type {PoolInstance} from '../pools/types.js'
import {sendUpstream, type SendInit} from './send.js'
import type {CallContext, ProviderAdapter, UpstreamCall} from './types.js'

/**
 * Side requests: asked of one instance, advisory, and recording no outcome. Each sends through the adapter's
 * exchange, never throws (a failure is "no answer", and the caller has a fallback), and closes what it opened.
 */
export interface SideCallLimits {
  timeoutMs: number
  /** Largest answer read; a longer one is no answer. */
  limitBytes: number
}

async function sideCall<T>(
  open: () => Promise<Dispatcher.ResponseData | undefined>,
  read: (response: Dispatcher.ResponseData) => Promise<T | undefined>,
): Promise<T | undefined> {
  let response: Dispatcher.ResponseData | undefined
  try {
    response = await open()
    return response ? await read(response) : undefined
  } catch {
    return undefined
  } finally {
    if (response) discard(response.body)
  }
}

/** The upstream's own model ids; undefined when it has no list, an empty one, or does not answer. */
export function listModels(
  adapter: ProviderAdapter,
  instance: PoolInstance,
  limits: SideCallLimits,
): Promise<string[] | undefined> {
  const {modelsCall, modelIds} = adapter
  if (!modelsCall || !modelIds) return Promise.resolve(undefined)
  return sideCall(
    async () =>
      adapter.exchange.send(await modelsCall(instance), {method: 'GET', signal: AbortSignal.timeout(limits.timeoutMs)}),
    async (response) => {
      if (response.statusCode !== 200) {
        await response.body.dump()
        return undefined
      }
      const bytes = await readLimited(response.body, limits.limitBytes)
      const ids = bytes ? modelIds(JSON.parse(bytes.toString('utf8'))) : []
      return ids.length > 0 ? ids : undefined
    },
  )
}

/** A JSON answer to a side request (a quota endpoint); undefined for any other status, a long answer or no answer. */
export function fetchJson(call: UpstreamCall, init: SendInit, limitBytes: number): Promise<unknown> {
  return sideCall(
    () => sendUpstream(call, init),
    async (response) => {
      if (response.statusCode !== 200) {
        await response.body.dump()
        return undefined
      }
      const bytes = await readLimited(response.body, limitBytes)
      return bytes ? (JSON.parse(bytes.toString('utf8')) as unknown) : undefined
    },
  )
}

/** A count request as the client sent it. */
export interface CountRequest {
  json: Record<string, unknown>
  /** The body to send when the upstream takes the client's request as it is. */
  body: string | Buffer
}

/**
 * A token count asked of the upstream (Anthropic's count_tokens, Code Assist's countTokens): its answer as sent, or
 * undefined where it cannot count a request in the client's protocol.
 */
export function countTokensUpstream(
  adapter: ProviderAdapter,
  instance: PoolInstance,
  ctx: CallContext,
  request: CountRequest,
  limits: SideCallLimits,
): Promise<string | undefined> {
  const {countTokensCall, countTokensBody} = adapter
  if (!countTokensCall || adapter.protocol !== ctx.clientProtocol) return Promise.resolve(undefined)
  const body = countTokensBody ? JSON.stringify(countTokensBody(request.json, ctx.model)) : request.body
  return sideCall(
    async () =>
      adapter.exchange.send(await countTokensCall(instance, ctx), {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(limits.timeoutMs),
      }),
    async (response) => {
      const answer = await readText(response.body, limits.limitBytes)
      return response.statusCode === 200 && answer.complete ? answer.text : undefined
    },
  )
}
