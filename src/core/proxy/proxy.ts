import {CodecError} from '../codecs/errors.js'
import {errorMessage} from '../errors.js'
import {discard} from '../http/body.js'
import type {ClientSink} from '../http/client-sink.js'
import {instanceLabel, type Lease, type LiveInstance, type PoolState} from '../pools/pool-state.js'
import {servesModel} from '../pools/limits.js'
import type {Ticket, WaitResult} from '../pools/slot-queue.js'
import {redact} from '../secrets.js'
import {answerQueueRefused, answerTimeout, answerUnavailable, answerUnservedModel, type FinalAnswer} from './answers.js'
import {attemptOnce, bodySource, tokenFailure, upstreamModel} from './attempt.js'
import {ClientGone, sendError, type Attempt, type AttemptContext, type BodySource} from './context.js'
import {operationRefusal} from './operations.js'
import {decide, type Action, type Decision, type Effect} from './policy.js'
import {fallbackRoutes, type Fallbacks} from './fallback.js'
import {sessionKey} from './session-key.js'
import type {ClientCall, ProxyDeps, RequestRecord} from './types.js'
import type {ProviderType} from '../pools/types.js'
import type {ProviderAdapter} from '../providers/types.js'

/**
 * Serves one client request from the pool: pick an instance, send, and on a retryable failure before the
 * first byte reached the client, try the next (never the same one twice). The request body is converted
 * from the original for every attempt's protocol, or passed through as bytes when the protocols match.
 */
export async function proxyRequest(deps: ProxyDeps, call: ClientCall, sink: ClientSink): Promise<RequestRecord> {
  const started = deps.now()
  const codec = deps.codecs[call.protocol]
  const adapter = deps.adapters[call.type]
  // The model the last instance's upstream was sent, when an alias or a fallback renamed it.
  let renamed: string | undefined
  const record = (status: number, instance: LiveInstance | null, attempts: number, error?: string): RequestRecord => ({
    time: started,
    route: call.route,
    protocol: call.protocol,
    type: instance ? instance.config.type : call.type,
    ...(instance && instance.config.type !== call.type && {fallbackFrom: call.type}),
    instance: instance ? instanceLabel(instance) : null,
    ...(instance && {instanceId: instance.id}),
    model: call.model,
    ...(instance && renamed !== undefined && {upstreamModel: renamed}),
    status,
    ms: deps.now() - started,
    attempts,
    stream: call.stream,
    // The record is what the log and the board show: whatever the error quotes, no secret goes with it.
    ...(error === undefined ? {} : {error: redact(error)}),
  })
  if (!adapter) {
    sendError(sink, codec, 501, `Provider type ${call.type} is not supported by this server.`)
    return record(501, null, 0)
  }
  const refusal = operationRefusal(call, adapter, deps)
  if (refusal !== undefined) {
    sendError(sink, codec, 400, refusal)
    return record(400, null, 0, refusal)
  }
  let bodies: BodySource
  try {
    bodies = bodySource(call, adapter, deps)
  } catch (error) {
    const status = error instanceof CodecError ? error.status : 400
    sendError(sink, codec, status, errorMessage(error))
    return record(status, null, 0, errorMessage(error))
  }

  const signal = new ClientGone()
  const stopListening = sink.onGone(() => signal.abort())
  const session = deps.state.sessionOf(call.type, call.model, () => sessionKey(call.protocol, call.headers, call.json))
  const tried = new Set<string>()
  let lastFailure: string | undefined
  let last: LiveInstance | null = null
  const final = (answer: FinalAnswer) => record(answer.status, last, tried.size, answer.message)
  // The requested type first; other types only once it has nothing left to try.
  const routes: Array<{call: ClientCall; adapter: ProviderAdapter; model: string; bodies?: BodySource}> = [
    {call, adapter, model: call.model, bodies},
  ]
  for (const route of call.operation ? [] : fallbackRoutes(call, deps.fallbacks ?? NO_FALLBACKS, hasInstances(deps))) {
    const other = deps.adapters[route.type]
    // The client's model stays the call's, so that answers name it as they do under an alias.
    if (other) routes.push({call: {...call, type: route.type}, adapter: other, model: route.model})
  }
  try {
    for (const route of routes) {
      const on = route.call
      // A request the fallback's protocol cannot carry is left to the types that can.
      let routeBodies: BodySource
      try {
        routeBodies = route.bodies ?? bodySource(on, route.adapter, deps)
      } catch (error) {
        if (!(error instanceof CodecError)) throw error
        lastFailure = `${on.type}: ${error.message}`
        continue
      }
      for (let attempts = 0; attempts < deps.maxAttempts; attempts++) {
        // A session is bound on the requested type only: a fallback serves it without a binding of its own.
        const pinned = on === call ? {prefer: call.preferInstance, session} : {}
        const lease = await leaseOrWait(deps, on, tried, {...pinned, model: route.model}, signal)
        if (lease === 'none') break
        if (lease === 'gone') return record(499, last, tried.size, 'client closed the connection')
        if (lease === 'full' || lease === 'timeout')
          return final(answerQueueRefused(deps, on, route.model, codec, sink, lease))
        const {live} = lease
        tried.add(live.id)
        last = live
        const model = upstreamModel(deps, on, live, route.model)
        renamed = model === call.model ? undefined : model
        const ctx: AttemptContext = {
          deps,
          call: on,
          adapter: route.adapter,
          live,
          model,
          bodies: routeBodies,
          sink,
          codec,
          signal,
          upstreams: [],
        }
        let served: {attempt: Attempt; action: Action}
        try {
          served = await serveOn(ctx)
        } catch (error) {
          // A conversion the target cannot carry: the client's request is at fault, whichever instance serves it.
          if (!(error instanceof CodecError)) throw error
          sendError(sink, codec, error.status, error.message)
          served = {attempt: {done: true, status: error.status, error: error.message}, action: 'stop'}
        } finally {
          // Whatever happened, an upstream answer not read to its end is closed now, not left generating.
          for (const body of ctx.upstreams) discard(body)
          deps.state.release(lease)
        }
        const {attempt, action} = served
        if (attempt.done) {
          if (on === call && session !== undefined && attempt.latencyMs !== undefined) deps.state.served(session, live)
          return record(attempt.status, live, tried.size, attempt.error)
        }
        if (signal.aborted) return record(499, live, tried.size, 'client closed the connection')
        if (action === 'stop') {
          const {outcome} = attempt
          if (outcome.kind === 'timeout' && outcome.phase !== 'connect')
            return final(answerTimeout(deps, on, codec, sink, live, outcome.phase))
          return record(499, live, tried.size, 'client closed the connection')
        }
        lastFailure = `${instanceLabel(live)}: ${attempt.message}`
      }
    }
    if (tried.size === 0 && !servesAny(deps, call.type, call.model))
      return final(answerUnservedModel(call, codec, sink))
    const fallbackTypes = [...new Set(routes.slice(1).map((route) => route.call.type))]
    return final(answerUnavailable(deps, call, codec, sink, tried.size, lastFailure, fallbackTypes))
  } finally {
    stopListening()
  }
}

const NO_FALLBACKS: Fallbacks = {chain: {}, models: {}}

/** A fallback type is worth trying only while it has instances; whether one is available is acquire's to say. */
function hasInstances(deps: ProxyDeps): (type: ProviderType) => boolean {
  return (type) => deps.state.list(type).length > 0
}

/** Whether some instance of the type serves the model (a type without instances is acquire's to answer for). */
function servesAny(deps: ProxyDeps, type: ProviderType, model: string): boolean {
  const instances = deps.state.list(type)
  return instances.length === 0 || instances.some((live) => servesModel(live.config, model))
}

/**
 * A lease on an instance of the call's type; while the only ones left are at their concurrency limit, the request
 * waits in the type's line for one to free a slot, or for a cooling instance to come back, whichever is first.
 * 'none' when no instance could serve it even then.
 */
async function leaseOrWait(
  deps: ProxyDeps,
  on: ClientCall,
  tried: ReadonlySet<string>,
  pick: {prefer?: string | undefined; session?: string | undefined; model: string},
  signal: ClientGone,
): Promise<Lease | 'none' | Exclude<WaitResult, 'slot'>> {
  let ticket: Ticket | undefined
  try {
    for (;;) {
      const lease = deps.state.acquire(on.type, tried, pick)
      if (lease) return lease
      const {full, coolingUntil} = deps.state.unavailability(on.type, tried, pick.model)
      if (full === 0) return 'none'
      if (!ticket) {
        const joined = deps.state.joinLine(on.type, signal)
        if (typeof joined === 'string') return joined
        ticket = joined
      }
      const waited = await ticket.next(coolingUntil === null ? undefined : Math.max(0, coolingUntil - deps.now()))
      if (waited !== 'slot') return waited
    }
  } finally {
    ticket?.leave()
  }
}

/**
 * One instance: send, after a 401 from an OAuth upstream refresh the token and send once more, then apply what
 * the result means for the instance. This is the one place where serving changes an instance's health; it runs
 * while the lease is held, so that a half-open trial's success is seen as one.
 */
async function serveOn(ctx: AttemptContext): Promise<{attempt: Attempt; action: Action}> {
  const {adapter, live, signal} = ctx
  let attempt = await attemptOnce(ctx)
  let decision = judge(ctx, attempt, Boolean(adapter.refresh))
  if (decision?.action === 'refresh' && adapter.refresh && !signal.aborted) {
    const refused = await adapter.refresh(live.config).then(() => undefined, tokenFailure)
    attempt = refused ?? (await attemptOnce(ctx))
    decision = judge(ctx, attempt, false)
  }
  if (attempt.done && attempt.latencyMs !== undefined) ctx.deps.state.succeeded(live, attempt.latencyMs)
  if (decision) applyEffect(ctx.deps.state, live, decision.effect)
  return {attempt, action: decision?.action ?? 'stop'}
}

/** What a failure means, by the policy; undefined for an answer that says nothing against the instance. */
function judge(ctx: AttemptContext, attempt: Attempt, refreshLeft: boolean): Decision | undefined {
  const outcome = attempt.done ? attempt.failure : attempt.outcome
  return outcome && decide(outcome, ctx.deps.state.policy, {refreshLeft})
}

/** Reasons quote the upstream's error body; they go on to the log, the board and the pool file, so redacted. */
function applyEffect(state: PoolState, live: LiveInstance, effect: Effect): void {
  switch (effect.kind) {
    case 'cool':
      state.cool(live, effect.ms, redact(effect.reason), effect.capped)
      break
    case 'unhealthy':
      state.markUnhealthy(live, redact(effect.reason))
      break
    case 'count':
      state.failed(live, redact(effect.reason))
      break
    case 'none':
      break
  }
}
