import {request} from 'undici'
import {codecs} from '../codecs/index.js'
import type {IRRequest} from '../codecs/ir.js'
import {errorMessage} from '../errors.js'
import type {PoolInstance, ProviderType} from '../pools/types.js'
import type {ProviderAdapter, UpstreamCall} from '../providers/types.js'
import {classifyError, classifyStatus, retryAfterMs} from '../proxy/classify.js'

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
}

/** Models the generation probe asks for when an instance has no `checkModelName`; `HEALTH_CHECK_MODELS` overrides. */
export const DEFAULT_CHECK_MODELS: Record<ProviderType, string> = {
  'openai-custom': 'gpt-4o-mini',
  'claude-custom': 'claude-haiku-4-5',
  'gemini-cli-oauth': 'gemini-2.5-flash',
  'claude-kiro-oauth': 'claude-sonnet-4-5',
  'openai-qwen-oauth': 'qwen3-coder-flash',
}

export interface ProbeOptions {
  timeoutMs: number
  /** Overrides the instance's checkModelName and the type default. */
  model?: string
  defaultModels?: Partial<Record<ProviderType, string>>
  /** A free call (a model list) instead of a one-token generation, where the type has one. */
  cheap?: boolean
  now?: () => number
}

export function probeModel(instance: PoolInstance, options: ProbeOptions): string {
  return options.model ?? instance.checkModelName ?? options.defaultModels?.[instance.type] ?? DEFAULT_CHECK_MODELS[instance.type]
}

/** The smallest generation the upstream's protocol allows: one user word, one output token. */
function probeBody(adapter: ProviderAdapter, model: string): string {
  const ir: IRRequest = {
    model,
    system: [],
    messages: [{role: 'user', content: [{type: 'text', text: 'ping'}]}],
    tools: [],
    stop: [],
    stream: false,
    includeUsage: false,
    maxTokens: 1,
  }
  return JSON.stringify(codecs[adapter.protocol].encodeRequest(ir))
}

/**
 * Asks one instance whether it works, within a hard deadline. A 400/422 means the upstream read the request
 * with our credentials, so the key works even if that model dislikes a one-token probe.
 */
export async function probeInstance(adapter: ProviderAdapter, instance: PoolInstance, options: ProbeOptions): Promise<ProbeResult> {
  const now = options.now ?? Date.now
  const started = now()
  const cheap = Boolean(options.cheap)
  const model = cheap ? null : probeModel(instance, options)
  const result = (fields: Partial<ProbeResult> & Pick<ProbeResult, 'healthy' | 'state' | 'reason'>): ProbeResult => ({
    status: null,
    error: null,
    retryAfterMs: null,
    ...fields,
    latencyMs: now() - started,
    model,
    cheap,
  })
  const signal = AbortSignal.timeout(options.timeoutMs)
  try {
    let call: UpstreamCall
    let response
    if (cheap) {
      call = await adapter.modelsCall(instance)
      response = await request(call.url, {method: 'GET', headers: call.headers, dispatcher: call.dispatcher, signal})
    } else {
      call = await adapter.prepare(instance, {stream: false, model: model!, clientProtocol: adapter.protocol, clientHeaders: {}})
      response = await request(call.url, {method: 'POST', headers: call.headers, body: probeBody(adapter, model!), dispatcher: call.dispatcher, signal})
    }
    const status = response.statusCode
    const text = await response.body.text()
    const outcome = classifyStatus(status, response.headers, now())
    const error = status >= 400 ? `${status} ${upstreamMessage(text)}`.trim() : null
    switch (outcome.kind) {
      case 'success':
        return result({healthy: true, state: 'healthy', reason: null, status})
      case 'client_fault':
        if (status === 404) return result({healthy: false, state: 'unhealthy', reason: 'model_not_found', status, error})
        return result({healthy: true, state: 'healthy', reason: null, status, error: `${error} (the credentials were accepted)`})
      case 'rate_limited': {
        const quota = /insufficient_quota|quota/i.test(text)
        return result({healthy: false, state: 'cooling', reason: quota ? 'quota' : 'rate_limited', status, error, retryAfterMs: retryAfterMs(response.headers, now())})
      }
      case 'quota':
        return result({healthy: false, state: 'cooling', reason: 'quota', status, error, retryAfterMs: outcome.retryAfterMs})
      case 'auth':
        return result({healthy: false, state: 'unhealthy', reason: 'auth', status, error})
      default:
        return result({healthy: false, state: 'unhealthy', reason: 'server', status, error})
    }
  } catch (error) {
    if (signal.aborted) return result({healthy: false, state: 'unhealthy', reason: 'timeout', error: `no answer within ${options.timeoutMs} ms`})
    const outcome = classifyError(error)
    const reason: ProbeReason = outcome.kind === 'timeout' ? 'timeout' : 'network'
    return result({healthy: false, state: 'unhealthy', reason, error: networkMessage(error)})
  }
}

function upstreamMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as {error?: {message?: unknown} | string; message?: unknown}
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message)
    return typeof message === 'string' ? message.slice(0, 200) : ''
  } catch {
    return ''
  }
}

function networkMessage(error: unknown): string {
  const cause = (error as {cause?: {code?: string; message?: string}}).cause
  const code = (error as {code?: string}).code ?? cause?.code
  return code ? `${code}: ${cause?.message ?? errorMessage(error)}` : errorMessage(error)
}
