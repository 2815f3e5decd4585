import type {Dispatcher} from 'undici'
import {
  mayHoldForeignSignatures,
  mayHoldSignatures,
  screenClientSignatures,
  stripClientSignatures,
} from '../codecs/client-signatures.js'
import {CodecError} from '../codecs/errors.js'
import type {IRRequest} from '../codecs/ir.js'
import {
  accountTag,
  hasSignatures,
  screenRequestSignatures,
  tagStreamSignatures,
  withoutSignatures,
} from '../codecs/signatures.js'
import type {StreamDecoder} from '../codecs/types.js'
import type {LiveInstance} from '../pools/pool-state.js'
import {errorMessage} from '../errors.js'
import {TokenError} from '../oauth/errors.js'
import {ModelAliasResolver} from '../models/aliases.js'
import type {PoolInstance} from '../pools/types.js'
import type {AttemptBody, BodyInput} from '../providers/exchange.js'
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
  const input: BodyInput = {
    clientProtocol: call.protocol,
    clientJson: call.json,
    clientBody: call.body,
    modelRewritten: call.modelRewritten,
    ir: decode,
    model: call.model,
    stream: call.stream,
    onDropped: deps.onDropped,
  }
  const bodies = adapter.exchange.bodies(input)
  // A converted history holding signatures is screened per account (each instance verifies only its own); an
  // alias gives the upstream another model. Such bodies are made once per name and account, on first use.
  const signed = call.protocol !== adapter.protocol && hasSignatures(decode())
  // A client of the upstream's own protocol may hold signatures tagged while it spoke to another upstream type.
  const own = call.protocol === adapter.protocol
  const tagged = own && mayHoldForeignSignatures(call.body)
  const perAccount = signed || tagged
  const made = new Map<string, (instance: PoolInstance) => Promise<AttemptBody>>()
  const variant = (live: LiveInstance, model: string, strip: boolean): Promise<AttemptBody> => {
    const account = perAccount && !strip ? accountTag(live.id) : ''
    const key = `${model}\n${account}\n${strip}`
    let forKey = made.get(key)
    if (!forKey) {
      let ir: IRRequest | undefined
      const origin = {type: call.type, account}
      const screened = (): IRRequest =>
        strip ? withoutSignatures(decode()) : screenRequestSignatures(decode(), origin, call.protocol, deps.onDropped)
      // A body of the client's own protocol: without signatures for the retry, screened when it holds a tag.
      const clientJson = !own
        ? undefined
        : strip
          ? stripClientSignatures(call.protocol, call.json, model)
          : tagged
            ? screenClientSignatures(call.protocol, call.json, origin, {model, onDropped: deps.onDropped})
            : undefined
      forKey = adapter.exchange.bodies({
        ...input,
        ...(clientJson && {clientJson}),
        model,
        modelRewritten: input.modelRewritten || model !== call.model || clientJson !== undefined,
        ir: () => (ir ??= {...(signed || strip ? screened() : decode()), model}),
      })
      made.set(key, forKey)
    }
    return forKey(live.config)
  }
  const source: BodySource = (live, model) =>
    model === call.model && !perAccount ? bodies(live.config) : variant(live, model, false)
  // After an upstream refused a signature: the same history without any (it has none to refuse, so no second retry).
  const unsigned: BodySource = (live, model) => variant(live, model, true)
  if (signed) source.unsigned = () => unsigned
  else if (own) source.unsigned = () => (mayHoldSignatures(call.protocol, call.body) ? unsigned : undefined)
  return source
}

// Anthropic: "Invalid `signature` in `thinking` block"; Gemini: "Thought signature is not valid", "Corrupted thought
// signature.".
const SIGNATURE_REFUSED =
  /invalid `?signature`? in `?thinking`? block|thought signature is not valid|corrupted thought signature/i

function refusesSignature(text: string): boolean {
  return SIGNATURE_REFUSED.test(text)
}

const NO_ALIASES = new ModelAliasResolver()

/**
 * The model the instance's upstream is sent: the client's (or the one modelFallbackMapping chose), unless the
 * instance's or the type's aliases rename it.
 */
export function upstreamModel(deps: ProxyDeps, call: ClientCall, live: LiveInstance, model = call.model): string {
  const aliases = deps.modelAliases ?? NO_ALIASES
  return aliases.resolve(call.type, live.config.raw.modelAliases, model) ?? model
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
      model: ctx.model,
      clientProtocol: call.protocol,
      clientHeaders: call.headers,
      ...(call.beta !== undefined && {clientBeta: call.beta}),
      ...(call.operation && {operation: call.operation}),
    })
    attemptBody = await bodies(live, ctx.model)
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
    const origin = {type: call.type, account: accountTag(live.id)}
    // Signatures handed to a client of another protocol say where they came from; a same-protocol answer is untouched.
    const tag = (decoder: StreamDecoder) =>
      call.protocol === adapter.protocol ? decoder : tagStreamSignatures(decoder, origin, call.protocol)
    const createDecoder = () => tag(scrubbingErrors(attemptBody.createStreamDecoder(options)))
    const received = {response, latencyMs: deps.now() - sentAt, createDecoder}
    if (call.stream) return relayStream(ctx, received)
    return exchange.alwaysStreams ? relayCollected(ctx, received) : relayJson(ctx, received)
  }
  const text = await errorBody(response, deps.errorBodyLimitBytes)
  const outcome = exchange.classify(response.statusCode, response.headers, text, deps.now())
  // One more try on this instance without the signatures it refused, before anything reached the client.
  const unsigned = response.statusCode === 400 && refusesSignature(text) ? ctx.bodies.unsigned?.() : undefined
  if (unsigned) return attemptOnce({...ctx, bodies: unsigned})
  if (outcome.kind === 'client_fault' || outcome.kind === 'success')
    return relayClientFault(ctx, response, redact(text))
  return failure(outcome, `${response.statusCode} ${errorDetail(text)}`.trim())
}
