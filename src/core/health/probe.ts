import type {Dispatcher} from 'undici'
import type {IRRequest, IRStreamEvent} from '../codecs/ir.js'
import type {Protocol} from '../codecs/types.js'
import {AppError, CancelledError, errorMessage} from '../errors.js'
import {DEFAULT_ERROR_BODY_LIMIT, readText} from '../http/body.js'
import type {PoolInstance, ProviderType} from '../pools/types.js'
import {TokenError} from '../oauth/errors.js'
import {redact} from '../secrets.js'
import type {AttemptBody} from '../providers/exchange.js'
import {classifyError, upstreamErrorMessage, type Outcome} from '../providers/outcome.js'
import type {ProviderAdapter} from '../providers/types.js'
import {readQuota} from '../quota/read.js'
import {exhaustedFor, type Quota} from '../quota/types.js'

export type ProbeReason = 'auth' | 'rate_limited' | 'quota' | 'server' | 'network' | 'timeout' | 'model_not_found'

export interface ProbeResult {
  healthy: boolean
  state: 'healthy' | 'unhealthy' | 'cooling'
  reason: ProbeReason | null
  /** The upstream's HTTP status, null when none came back. */
  status: number | null
  latencyMs: number
  /** The model asked, null for a cheap probe that asks none. */
  model: string | null
  error: string | null
  /** For rate limits and quotas: how long the upstream asked us to wait, when it said. */
  retryAfterMs: number | null
  cheap: boolean
  /** What the vendor says is left of the quota, when it says (best-effort: null when it could not be read). */
  quota: Quota | null
}

/** Models the generation probe asks for when an instance has no `checkModelName`; `HEALTH_CHECK_MODELS` overrides. */
export const DEFAULT_CHECK_MODELS: Record<ProviderType, string> = {
  'openai-custom': 'gpt-4o-mini',
  'claude-custom': 'claude-haiku-4-5',
  'gemini-cli-oauth': 'gemini-2.5-flash',
  'claude-kiro-oauth': 'claude-haiku-4-5',
  'openai-qwen-oauth': 'qwen3-coder-flash',
  'openaiResponses-custom': 'gpt-4o-mini',
}

export interface ProbeOptions {
  timeoutMs: number
  /** Overrides the instance's checkModelName and the type default. */
  model?: string
  defaultModels?: Partial<Record<ProviderType, string>>
  /** A free call (a model list) instead of a one-token generation, where the type has one. */
  cheap?: boolean
  now?: () => number
  /** Gives the probe up (a cancelled check): it then throws CancelledError instead of judging the instance. */
  signal?: AbortSignal
}

export function probeModel(instance: PoolInstance, options: ProbeOptions): string {
  return (
    options.model ??
    instance.checkModelName ??
    options.defaultModels?.[instance.type] ??
    DEFAULT_CHECK_MODELS[instance.type]
  )
}

/** The smallest generation the upstream's protocol allows: one user word, one output token. */
function probeRequest(model: string): IRRequest {
  return {
    model,
    system: [],
    messages: [{role: 'user', content: [{type: 'text', text: 'ping'}]}],
    tools: [],
    stop: [],
    stream: false,
    includeUsage: false,
    maxTokens: 1,
  }
}

/**
 * Probe requests written in the upstream's own protocol where the IR's one-token request does not fit it: the
 * Responses API refuses fewer than 16 output tokens, and a probe must not leave a stored response behind.
 */
const NATIVE_PROBES: Partial<Record<Protocol, (model: string, stream: boolean) => Record<string, unknown>>> = {
  responses: (model, stream) => ({model, input: 'ping', max_output_tokens: 16, store: false, stream}),
}

/**
 * The probe's body, by the same exchange as serving. The IR stands in for a client of another protocol, so it is
 * converted; a native probe request stands in for a client of the upstream's own protocol and passes through.
 */
function probeBody(
  adapter: ProviderAdapter,
  instance: PoolInstance,
  model: string,
  stream: boolean,
): Promise<AttemptBody> {
  const ir = probeRequest(model)
  const native = NATIVE_PROBES[adapter.protocol]?.(model, stream)
  const clientProtocol = native ? adapter.protocol : adapter.protocol === 'openai' ? 'anthropic' : 'openai'
  return adapter.exchange.bodies({
    clientProtocol,
    clientJson: native ?? {},
    clientBody: native ? JSON.stringify(native) : '',
    modelRewritten: false,
    ir: () => ir,
    model,
    stream,
  })(instance)
}

interface ProbeAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** The probe needs the status and at most the start of the body: a long one is cut off and its connection closed. */
async function answerOf(response: Dispatcher.ResponseData): Promise<ProbeAnswer> {
  return {
    status: response.statusCode,
    headers: response.headers,
    text: (await readText(response.body, DEFAULT_ERROR_BODY_LIMIT)).text,
  }
}

/** Sends one probe; for an upstream that only streams, the stream must also finish without an error. */
async function sendProbe(
  adapter: ProviderAdapter,
  instance: PoolInstance,
  model: string | null,
  signal: AbortSignal,
): Promise<ProbeAnswer> {
  if (model === null) {
    if (!adapter.modelsCall) throw new AppError(`${instance.type} has no free probe; run the check without --cheap.`)
    const call = await adapter.modelsCall(instance)
    return answerOf(await adapter.exchange.send(call, {method: 'GET', signal}))
  }
  const stream = adapter.exchange.alwaysStreams
  const call = await adapter.prepare(instance, {stream, model, clientProtocol: adapter.protocol, clientHeaders: {}})
  const attempt = await probeBody(adapter, instance, model, stream)
  const response = await adapter.exchange.send(call, {method: 'POST', body: attempt.body, signal})
  if (!stream || response.statusCode >= 400) return answerOf(response)
  const decoder = attempt.createStreamDecoder()
  // Nothing is kept but the first error, and reading stops there (leaving the loop closes the connection).
  const failureIn = (events: IRStreamEvent[]) => events.find((e) => e.type === 'error')
  let failure: IRStreamEvent | undefined
  for await (const chunk of response.body) if ((failure = failureIn(decoder.push(chunk as Buffer)))) break
  failure ??= failureIn(decoder.end())
  return failure?.type === 'error'
    ? {status: failure.status, headers: {}, text: JSON.stringify({message: failure.message})}
    : {status: response.statusCode, headers: response.headers, text: ''}
}

/**
 * Asks one instance whether it works, within a hard deadline. A 400/422 means the upstream read the request
 * with our credentials, so the key works even if that model dislikes a one-token probe. OAuth instances get one
 * token refresh after a 401, as in serving; a login that is gone is reported as `auth`.
 */
export async function probeInstance(
  adapter: ProviderAdapter,
  instance: PoolInstance,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const now = options.now ?? Date.now
  const started = now()
  const cheap = Boolean(options.cheap)
  const model = cheap ? null : probeModel(instance, options)
  const result = (fields: Partial<ProbeResult> & Pick<ProbeResult, 'healthy' | 'state' | 'reason'>): ProbeResult => ({
    status: null,
    error: null,
    retryAfterMs: null,
    quota: null,
    ...fields,
    latencyMs: now() - started,
    model,
    cheap,
  })
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline
  try {
    if (cheap && adapter.cheapProbe) {
      await adapter.cheapProbe(instance, signal)
      const verdict = result({healthy: true, state: 'healthy', reason: null})
      return withQuota(verdict, await readQuota(adapter, instance, {}, signal, now), now())
    }
    // Everything said below quotes the text (reasons included), and it goes to the terminal, the log and the pool file.
    const judge = ({status, headers, text}: ProbeAnswer) => {
      const redacted = redact(text)
      return {status, text: redacted, outcome: adapter.exchange.classify(status, headers, redacted, now())}
    }
    let answer = await sendProbe(adapter, instance, model, signal)
    let probe = judge(answer)
    // As in serving: refused credentials get one token refresh and one more try.
    if (probe.outcome.kind === 'auth' && adapter.refresh) {
      await adapter.refresh(instance)
      answer = await sendProbe(adapter, instance, model, signal)
      probe = judge(answer)
    }
    const verdict = result(verdictOf(probe.status, probe.text, probe.outcome))
    // Refused credentials would be refused by the quota endpoint too.
    if (verdict.reason === 'auth') return verdict
    return withQuota(verdict, await readQuota(adapter, instance, answer.headers, signal, now), now())
  } catch (error) {
    // A probe given up says nothing about the instance.
    if (options.signal?.aborted) throw new CancelledError()
    if (deadline.aborted)
      return result({
        healthy: false,
        state: 'unhealthy',
        reason: 'timeout',
        error: `no answer within ${options.timeoutMs} ms`,
      })
    if (error instanceof TokenError) {
      const relogin = error.kind === 'relogin_needed'
      return result({healthy: false, state: 'unhealthy', reason: relogin ? 'auth' : 'network', error: error.message})
    }
    const outcome = classifyError(error)
    const reason: ProbeReason =
      outcome.kind === 'timeout' ? 'timeout' : outcome.kind === 'server' ? 'server' : 'network'
    return result({healthy: false, state: 'unhealthy', reason, error: networkMessage(error)})
  }
}

/**
 * A quota the vendor reports spent makes the instance rest until its reset, whatever the probe's own answer was (a
 * request may succeed on the last of a window).
 */
function withQuota(result: ProbeResult, quota: Quota | null, now: number): ProbeResult {
  const out = exhaustedFor(quota, now)
  if (!quota || !out) return {...result, quota}
  return {
    ...result,
    quota,
    healthy: false,
    state: 'cooling',
    reason: 'quota',
    retryAfterMs: out.ms ?? result.retryAfterMs,
    error: result.error ?? `no quota left${quota.resetAt === undefined ? '' : ` until ${quota.resetAt}`}`,
  }
}

type Verdict = Partial<ProbeResult> & Pick<ProbeResult, 'healthy' | 'state' | 'reason'>

/** What an answer says about the instance: a refusal of the request itself still proves the credentials. */
function verdictOf(status: number, text: string, outcome: Outcome): Verdict {
  const error = status >= 400 ? `${status} ${(upstreamErrorMessage(text) ?? '').slice(0, 200)}`.trim() : null
  switch (outcome.kind) {
    case 'success':
      return {healthy: true, state: 'healthy', reason: null, status}
    case 'client_fault':
      if (status === 404) return {healthy: false, state: 'unhealthy', reason: 'model_not_found', status, error}
      return {
        healthy: true,
        state: 'healthy',
        reason: null,
        status,
        error: `${error} (the credentials were accepted)`,
      }
    case 'rate_limited': {
      const quota = /insufficient_quota|quota/i.test(text)
      return {
        healthy: false,
        state: 'cooling',
        reason: quota ? 'quota' : 'rate_limited',
        status,
        error,
        retryAfterMs: outcome.retryAfterMs,
      }
    }
    case 'quota':
      return {
        healthy: false,
        state: 'cooling',
        reason: 'quota',
        status,
        error,
        retryAfterMs: outcome.retryAfterMs,
      }
    case 'auth':
      return {
        healthy: false,
        state: 'unhealthy',
        reason: 'auth',
        status,
        error: outcome.reason ? `${error}: ${outcome.reason}` : error,
      }
    default:
      return {healthy: false, state: 'unhealthy', reason: 'server', status, error}
  }
}

function networkMessage(error: unknown): string {
  const cause = (error as {cause?: {code?: string; message?: string}}).cause
  const code = (error as {code?: string}).code ?? cause?.code
  return code ? `${code}: ${cause?.message ?? errorMessage(error)}` : errorMessage(error)
}
