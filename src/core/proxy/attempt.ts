import type {Dispatcher} from 'undici'
import {CodecError} from '../codecs/errors.js'
import type {IRRequest} from '../codecs/ir.js'
import {errorMessage} from '../errors.js'
import {TokenError} from '../oauth/errors.js'
import type {AttemptBody} from '../providers/exchange.js'
import type {ProviderAdapter, UpstreamCall} from '../providers/types.js'
import {redact} from '../secrets.js'
import {classifyError} from '../providers/outcome.js'
import {CLIENT_GONE, decoderOptions, failure, type Attempt, type AttemptContext, type BodySource} from './context.js'
import {operationBody} from './operations.js'
import {errorBody, errorDetail} from './read-answer.js'
import {relayClientFault, relayCollected, relayJson} from './relay.js'
import {relayStream, scrubbingErrors} from './stream.js'
import type {ClientCall, ProxyDeps} from './types.js'

/**
 * The upstream body of every attempt, by the adapter's exchange. A request in another protocol is decoded up
 * front, so that a malformed one is a 400 before any instance is chosen.
 */
export function bodySource(call: ClientCall, adapter: ProviderAdapter, deps: ProxyDeps): BodySource {
  if (call.operation) return operationBody(call, deps)
  let ir: IRRequest | undefined
  const decode = (): IRRequest => {
    if (!ir) {
      ir = deps.codecs[call.protocol].decodeRequest(call.json, {
        model: call.model,
        stream: call.stream,
        onDropped: deps.onDropped,
      })
      ir.model = call.model
    }
    return ir
  }
  if (call.protocol !== adapter.protocol) decode()
  const bodies = adapter.exchange.bodies({
    clientProtocol: call.protocol,
    clientJson: call.json,
    clientBody: call.body,
    modelRewritten: call.modelRewritten,
    ir: decode,
    model: call.model,
    stream: call.stream,
    onDropped: deps.onDropped,
  })
  return (live) => bodies(live.config)
}

/** A token that cannot be had: a gone login is the instance's credentials refused; a token server hiccup is a network error. */
export function tokenFailure(error: unknown): Attempt {
  if (error instanceof TokenError && error.kind === 'relogin_needed')
    return {done: false, outcome: {kind: 'auth', reason: error.message}, message: error.message}
  return failure({kind: 'network', code: 'TOKEN_REFRESH'}, errorMessage(error))
}

/**
 * One send to one instance, and the answer relayed to the client or the failure described. It changes no pool
 * state: the caller decides what the result means for the instance. A CodecError (a conversion the target cannot
 * carry) propagates: the client's request is at fault, whichever instance serves it.
 */
export async function attemptOnce(ctx: AttemptContext): Promise<Attempt> {
  const {deps, call, adapter, live, bodies, signal} = ctx
  const {exchange} = adapter
  const sentAt = deps.now()
  let upstream: UpstreamCall
  let attemptBody: AttemptBody
  try {
    upstream = await adapter.prepare(live.config, {
      stream: call.stream || exchange.alwaysStreams,
      model: call.model,
      clientProtocol: call.protocol,
      clientHeaders: call.headers,
      ...(call.beta !== undefined && {clientBeta: call.beta}),
      ...(call.operation && {operation: call.operation}),
    })
    attemptBody = await bodies(live)
  } catch (error) {
    if (error instanceof CodecError) throw error
    return tokenFailure(error)
  }
  let response: Dispatcher.ResponseData
  try {
    const limits = deps.timeouts?.[call.type]
    response = await exchange.send(upstream, {
      method: 'POST',
      body: attemptBody.body,
      signal,
      headersTimeout: limits?.headersMs,
      bodyTimeout: limits?.idleMs,
    })
  } catch (error) {
    if (signal.aborted) return CLIENT_GONE
    return failure(classifyError(error), errorMessage(error))
  }
  ctx.upstreams.push(response.body)
  if (response.statusCode < 400) {
    const options = decoderOptions(deps)
    const createDecoder = () => scrubbingErrors(attemptBody.createStreamDecoder(options))
    const received = {response, latencyMs: deps.now() - sentAt, createDecoder}
    if (call.stream) return relayStream(ctx, received)
    return exchange.alwaysStreams ? relayCollected(ctx, received) : relayJson(ctx, received)
  }
  const text = await errorBody(response, deps.errorBodyLimitBytes)
  const outcome = exchange.classify(response.statusCode, response.headers, text, deps.now())
  if (outcome.kind === 'client_fault' || outcome.kind === 'success')
    return relayClientFault(ctx, response, redact(text))
  return failure(outcome, `${response.statusCode} ${errorDetail(text)}`.trim())
}
