import {request, type Dispatcher} from 'undici'
import {CodecError} from '../codecs/errors.js'
import type {IRRequest} from '../codecs/ir.js'
import {errorMessage} from '../errors.js'
import {TokenError} from '../oauth/errors.js'
import type {ProviderAdapter, UpstreamCall} from '../providers/types.js'
import {redact} from '../secrets.js'
import {classifyError, classifyStatus} from '../providers/outcome.js'
import {CLIENT_GONE, decoderOptions, failure, type Attempt, type AttemptContext, type BodySource} from './context.js'
import {errorBody, errorDetail} from './read-answer.js'
import {relayClientFault, relayCollected, relayJson} from './relay.js'
import {relayStream, scrubbingErrors} from './stream.js'
import type {ClientCall, ProxyDeps} from './types.js'

/**
 * The upstream body of every attempt: converted once from the client's request (decoded up front, so that a
 * malformed request is a 400 before any instance is chosen), passed through as bytes when the protocols match, or
 * built per instance by adapters whose bodies depend on it.
 */
export function bodySource(call: ClientCall, adapter: ProviderAdapter, deps: ProxyDeps): BodySource {
  let ir: IRRequest | undefined
  const decode = (): IRRequest => {
    if (!ir) {
      ir = deps.codecs[call.protocol].decodeRequest(call.json, {model: call.model, stream: call.stream, onDropped: deps.onDropped})
      ir.model = call.model
    }
    return ir
  }
  if (adapter.encodeBody) {
    const encode = adapter.encodeBody.bind(adapter)
    if (call.protocol !== adapter.protocol) decode()
    const input = {clientProtocol: call.protocol, clientJson: call.json, ir: decode, model: call.model, stream: call.stream}
    return (live) => encode(live.config, input)
  }
  let body: string | Buffer
  if (call.protocol === adapter.protocol) body = call.modelRewritten ? JSON.stringify({...call.json, model: call.model}) : call.body
  else body = JSON.stringify(deps.codecs[adapter.protocol].encodeRequest(decode(), {onDropped: deps.onDropped}))
  const shared = {body}
  return async () => shared
}

/** A token that cannot be had: a gone login is the instance's credentials refused; a token server hiccup is a network error. */
export function tokenFailure(error: unknown): Attempt {
  if (error instanceof TokenError && error.kind === 'relogin_needed') return {done: false, outcome: {kind: 'auth', reason: error.message}, message: error.message}
  return failure({kind: 'network', code: 'TOKEN_REFRESH'}, errorMessage(error))
}

/**
 * One send to one instance, and the answer relayed to the client or the failure described. It changes no pool
 * state: the caller decides what the result means for the instance. A CodecError (a conversion the target cannot
 * carry) propagates: the client's request is at fault, whichever instance serves it.
 */
export async function attemptOnce(ctx: AttemptContext): Promise<Attempt> {
  const {deps, call, adapter, live, bodies, signal} = ctx
  const sentAt = deps.now()
  let upstream: UpstreamCall
  let attemptBody: Awaited<ReturnType<BodySource>>
  try {
    upstream = await adapter.prepare(live.config, {stream: call.stream || Boolean(adapter.alwaysStreams), model: call.model, clientProtocol: call.protocol, clientHeaders: call.headers})
    attemptBody = await bodies(live)
  } catch (error) {
    if (error instanceof CodecError) throw error
    return tokenFailure(error)
  }
  let response: Dispatcher.ResponseData
  try {
    const limits = deps.timeouts?.[call.type]
    const options = {method: 'POST' as const, headers: upstream.headers, body: attemptBody.body, signal, headersTimeout: limits?.headersMs, bodyTimeout: limits?.idleMs}
    response =
      upstream.origin && upstream.path
        ? await upstream.dispatcher.request({...options, origin: upstream.origin, path: upstream.path})
        : await request(upstream.url, {...options, dispatcher: upstream.dispatcher})
  } catch (error) {
    if (signal.aborted) return CLIENT_GONE
    return failure(classifyError(error), errorMessage(error))
  }
  ctx.upstreams.push(response.body)
  if (response.statusCode < 400) {
    const options = decoderOptions(deps)
    const createDecoder = () =>
      scrubbingErrors(attemptBody.createStreamDecoder?.(options) ?? adapter.createStreamDecoder?.(options) ?? deps.codecs[adapter.protocol].createStreamDecoder(options))
    const received = {response, latencyMs: deps.now() - sentAt, createDecoder}
    if (call.stream) return relayStream(ctx, received)
    return adapter.alwaysStreams ? relayCollected(ctx, received) : relayJson(ctx, received)
  }
  const text = await errorBody(response, deps.errorBodyLimitBytes)
  const outcome = adapter.classify?.(response.statusCode, response.headers, text, deps.now()) ?? classifyStatus(response.statusCode, response.headers, deps.now())
  if (outcome.kind === 'client_fault' || outcome.kind === 'success') return relayClientFault(ctx, response, redact(text))
  return failure(outcome, `${response.statusCode} ${errorDetail(text)}`.trim())
}
