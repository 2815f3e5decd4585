import type {ProtocolCodec} from '../codecs/types.js'
import type {ClientSink} from '../http/client-sink.js'
import {instanceLabel, type LiveInstance} from '../pools/pool-state.js'
import {sendError} from './context.js'
import type {ClientCall, ProxyDeps} from './types.js'
import type {ProviderType} from '../pools/types.js'

/** The status and message the client was answered with when no attempt served it. */
export interface FinalAnswer {
  status: number
  message: string
}

/**
 * The upstream took the request and then ran out of time: it may still be generating (and billing) the answer, so
 * sending it elsewhere could pay for it twice. The client gets a timeout in its protocol, with the SDKs' own
 * `x-should-retry: false` so that they do not resend it either.
 */
export function answerTimeout(
  deps: ProxyDeps,
  call: ClientCall,
  codec: ProtocolCodec,
  sink: ClientSink,
  live: LiveInstance,
  phase: 'headers' | 'body',
): FinalAnswer {
  const limits = deps.timeouts?.[call.type]
  const waited = phase === 'body' ? limits?.idleMs : limits?.headersMs
  const within = waited === undefined ? '' : ` for ${waited / 1000} s`
  const what = phase === 'body' ? `went quiet${within} in the middle of its answer` : `sent no answer${within}`
  const message = `The upstream (${instanceLabel(live)}) ${what}. The request was not resent, as the upstream may still be working on it.`
  sendError(sink, codec, 504, message, {'x-should-retry': 'false'})
  return {status: 504, message}
}

/**
 * Nothing could serve the request: every instance is cooling (429 with the earliest time one of the type or its
 * fallbacks comes back), or the attempts failed (502), or no instance is usable (503). When fallback types were
 * tried too, the message says what each of them had.
 */
export function answerUnavailable(
  deps: ProxyDeps,
  call: ClientCall,
  codec: ProtocolCodec,
  sink: ClientSink,
  attempts: number,
  lastFailure: string | undefined,
  fallbackTypes: readonly ProviderType[] = [],
): FinalAnswer {
  const {coolingUntil, counts} = deps.state.unavailability(call.type, new Set())
  const total = counts.healthy + counts.cooling + counts.unhealthy + counts.disabled
  const fallbacks = fallbackSummary(deps, fallbackTypes)
  if (counts.healthy === 0 && coolingUntil !== null) {
    const back = Math.min(coolingUntil, fallbacks.coolingUntil ?? Infinity)
    const seconds = Math.max(1, Math.ceil((back - deps.now()) / 1000))
    const message = `All ${call.type} instances are cooling down after rate limits${fallbacks.text}; retry in ${seconds}s.`
    sendError(sink, codec, 429, message, {'retry-after': String(seconds)})
    return {status: 429, message}
  }
  if (lastFailure) {
    const message = `${attempts === 1 ? 'The only attempt' : `All ${attempts} attempts`} failed${fallbacks.text}; last: ${lastFailure}.`
    sendError(sink, codec, 502, message)
    return {status: 502, message}
  }
  const message =
    total === 0
      ? `No ${call.type} instances are configured${fallbacks.text}. Add one with \`aiclient pool add ${call.type}\`.`
      : `No usable ${call.type} instance: ${counts.unhealthy} unhealthy, ${counts.disabled} disabled${weightedOut(deps, call.type)}${fallbacks.text}.`
  sendError(sink, codec, 503, message)
  return {status: 503, message}
}

/** `(fallbacks claude-custom: 1 cooling; openai-custom: 2 unhealthy, 1 disabled)`, and when the first comes back. */
function fallbackSummary(deps: ProxyDeps, types: readonly ProviderType[]): {text: string; coolingUntil: number | null} {
  if (types.length === 0) return {text: '', coolingUntil: null}
  let coolingUntil: number | null = null
  const parts = types.map((type) => {
    const why = deps.state.unavailability(type, new Set())
    if (why.coolingUntil !== null && why.counts.healthy === 0)
      coolingUntil = Math.min(coolingUntil ?? Infinity, why.coolingUntil)
    const states = (['healthy', 'cooling', 'unhealthy', 'disabled'] as const)
      .filter((state) => why.counts[state] > 0)
      .map((state) => `${why.counts[state]} ${state}`)
    return `${type}: ${states.join(', ') || 'none'}`
  })
  return {text: ` (fallbacks ${parts.join('; ')})`, coolingUntil}
}

/** Healthy instances the weighted strategy passes by because their weight is 0, said when there are any. */
function weightedOut(deps: ProxyDeps, type: ProviderType): string {
  if (deps.state.strategyOf(type) !== 'weighted') return ''
  const now = deps.now()
  const idle = deps.state
    .list(type)
    .filter((live) => live.config.weight === 0 && deps.state.stateOf(live, now) === 'healthy').length
  if (idle === 0) return ''
  return `, ${idle} healthy with weight 0, which keeps ${idle === 1 ? 'it' : 'them'} out of the weighted rotation (\`aiclient pool set NAME --weight 1\` brings one back)`
}

/** The model is left out by every instance of the type (`supportedModels` / `notSupportedModels`): a 404. */
export function answerUnservedModel(call: ClientCall, codec: ProtocolCodec, sink: ClientSink): FinalAnswer {
  const message = `No ${call.type} instance serves the model ${call.model}: each one's supportedModels or notSupportedModels in the pool file leaves it out.`
  sendError(sink, codec, 404, message)
  return {status: 404, message}
}

/** Every instance serving the model was at its concurrency limit, and the queue was full or the wait ran out. */
export function answerQueueRefused(
  deps: ProxyDeps,
  call: ClientCall,
  model: string,
  codec: ProtocolCodec,
  sink: ClientSink,
  why: 'full' | 'timeout',
): FinalAnswer {
  const {full} = deps.state.unavailability(call.type, new Set(), model)
  const limited =
    full === 1
      ? `The one ${call.type} instance that can serve it is at its concurrency limit`
      : `All ${full} ${call.type} instances that can serve it are at their concurrency limit`
  const message =
    why === 'full'
      ? `${limited}; the queue is full (${deps.state.waiting(call.type)} waiting). Retry later.`
      : `${limited}; waited ${deps.state.queueTimeoutMs / 1000}s in the queue without a free slot. Retry later.`
  sendError(sink, codec, 429, message)
  return {status: 429, message}
}
