import {randomUUID} from 'node:crypto'
import {arch, platform} from 'node:os'
import {
  createCodeAssistStreamDecoder,
  createUnwrappingSseTransform,
  decodeCodeAssistResponse,
  encodeCodeAssistRequest,
  unwrapResponse,
  wrapGeminiBody,
} from '../codecs/code-assist/index.js'
import {googleRetryHint, nextMonthStartUtc, nextShanghaiMidnight} from '../codecs/google-retry.js'
import {createKiroStreamDecoder, encodeKiroRequest, kiroModelId} from '../codecs/kiro/index.js'
import type {StreamDecoderOptions} from '../codecs/types.js'
import type {Dispatchers} from '../http/dispatchers.js'
import {resolveEndpoints, withRegion, type OAuthEndpoints} from '../oauth/endpoints.js'
import {CODE_ASSIST_METADATA, discoverGeminiProject} from '../oauth/gemini-project.js'
import {geminiCredentialSpec} from '../oauth/gemini.js'
import {kiroCredentialSpec, type KiroToken} from '../oauth/kiro.js'
import {qwenApiBaseUrl, qwenCredentialSpec} from '../oauth/qwen.js'
import {tokenManagers, type AccessToken, type CredentialSpec, type TokenManager} from '../oauth/token-manager.js'
import type {PoolInstance} from '../pools/types.js'
import {readCodeAssistQuota} from '../quota/code-assist.js'
import {openAIRateLimits} from '../quota/headers.js'
import {kiroUsageLimitsPath, readKiroUsageLimits} from '../quota/kiro.js'
import {retryAfterMs, upstreamErrorMessage, type Outcome} from './outcome.js'
import {fetchJson} from './side-calls.js'
import {protocolExchange, type BodyInput} from './exchange.js'
import {dataIds, instanceField, proxyOf} from './instance.js'
import type {ProviderAdapter, UpstreamCall} from './types.js'

export interface OAuthAdapterOptions {
  dispatchers: Dispatchers
  env?: NodeJS.ProcessEnv
  /** Called once a Code Assist project has been discovered, to keep it in the pool entry. */
  rememberProject?: (instance: PoolInstance, project: string) => Promise<void>
}

const JSON_TYPE = 'application/json'
const USER_AGENT = `aiclient (${platform()}; ${arch()})`
/** Largest quota answer read; Kiro's and Code Assist's are a few kilobytes. */
const QUOTA_ANSWER_LIMIT = 256 * 1024

/** The credential file's token manager and the endpoints this instance uses (its own fields, then AICLIENT_*). */
function credentials<T extends AccessToken>(
  spec: CredentialSpec<T>,
  instance: PoolInstance,
  options: OAuthAdapterOptions,
): {manager: TokenManager<T>; endpoints: OAuthEndpoints} {
  if (!instance.credsFile) throw new Error(`${instance.type} instance ${instance.uuid} has no credential file.`)
  const endpoints = resolveEndpoints(options.env ?? process.env, instance.raw)
  const manager = tokenManagers.get(spec, instance.credsFile, {
    endpoints,
    dispatcher: options.dispatchers.get(proxyOf(instance)),
  })
  return {manager, endpoints}
}

function text(body: string): string {
  return upstreamErrorMessage(body) ?? body
}

/** Shared by the three: refresh after a 401, token state for the board and `pool list`, a token check as free probe. */
function tokenHooks<T extends AccessToken>(spec: CredentialSpec<T>, options: OAuthAdapterOptions) {
  return {
    refresh: async (instance: PoolInstance) => void (await credentials(spec, instance, options).manager.forceRefresh()),
    tokenStatus: (instance: PoolInstance) =>
      instance.credsFile ? credentials(spec, instance, options).manager.status() : null,
    cheapProbe: async (instance: PoolInstance) =>
      void (await credentials(spec, instance, options).manager.getAccessToken()),
  }
}

/** `openai-qwen-oauth`: the Qwen Code portal, OpenAI-compatible, at the account's `resource_url`. */
export function qwenOAuth(options: OAuthAdapterOptions): ProviderAdapter {
  const call = async (instance: PoolInstance, path: string) => {
    const {manager, endpoints} = credentials(qwenCredentialSpec, instance, options)
    const token = await manager.getAccessToken()
    const base = qwenApiBaseUrl(token.resourceUrl, endpoints.QWEN_BASE_URL)
    // The headers qwen-code sends: the portal serves OAuth accounts only to requests that carry them.
    const agent = `QwenCode/0.1.0 (${platform()}; ${arch()})`
    return {
      url: `${base}${path}`,
      headers: {
        authorization: `Bearer ${token.token}`,
        'content-type': JSON_TYPE,
        accept: JSON_TYPE,
        'user-agent': agent,
        'x-dashscope-cachecontrol': 'enable',
        'x-dashscope-useragent': agent,
        'x-dashscope-authtype': 'qwen-oauth',
      },
      dispatcher: options.dispatchers.get(proxyOf(instance)),
    }
  }
  return {
    type: 'openai-qwen-oauth',
    protocol: 'openai',
    passthrough: true,
    prepare: (instance) => call(instance, '/chat/completions'),
    modelsCall: (instance) => call(instance, '/models'),
    modelIds: dataIds,
    quotaFromHeaders: openAIRateLimits,
    exchange: protocolExchange('openai', {
      classify: (status, _headers, body, now): Outcome | undefined => {
        if ((status === 403 || status === 429) && /insufficient_quota|quota_exceeded|quota exceeded/i.test(body)) {
          return {
            kind: 'quota',
            retryAfterMs: nextShanghaiMidnight(now) - now,
            reason: `quota exhausted until 00:00 Asia/Shanghai: ${text(body)}`,
          }
        }
        return undefined
      },
    }),
    ...tokenHooks(qwenCredentialSpec, options),
  }
}

/** `gemini-cli-oauth`: Google Code Assist `v1internal`, the Gemini API inside a `{model, project, request}` envelope. */
export function geminiCodeAssist(options: OAuthAdapterOptions): ProviderAdapter {
  const projects = new Map<string, Promise<string>>()
  const projectFor = (instance: PoolInstance, token: string, base: string): Promise<string> => {
    const known = instanceField(instance, 'PROJECT_ID')
    if (known) return Promise.resolve(known)
    let pending = projects.get(instance.uuid)
    if (!pending) {
      pending = discoverGeminiProject({
        baseUrl: base,
        accessToken: token,
        dispatcher: options.dispatchers.get(proxyOf(instance)),
      }).then(async ({projectId}) => {
        await options.rememberProject?.(instance, projectId)
        return projectId
      })
      // A failed discovery is retried by the next request rather than remembered.
      pending.catch(() => projects.delete(instance.uuid))
      projects.set(instance.uuid, pending)
    }
    return pending
  }
  const call = async (instance: PoolInstance, method: string): Promise<UpstreamCall> => {
    const {manager, endpoints} = credentials(geminiCredentialSpec, instance, options)
    const token = await manager.getAccessToken()
    return {
      url: `${endpoints.GEMINI_BASE_URL}/v1internal:${method}`,
      headers: {authorization: `Bearer ${token.token}`, 'content-type': JSON_TYPE, 'user-agent': USER_AGENT},
      dispatcher: options.dispatchers.get(proxyOf(instance)),
    }
  }
  return {
    type: 'gemini-cli-oauth',
    protocol: 'gemini',
    passthrough: false,
    prepare: (instance, ctx) => call(instance, ctx.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'),
    countTokensCall: (instance) => call(instance, 'countTokens'),
    // Code Assist counts contents only, as gemini-cli sends them (upstreams.md §6.1).
    countTokensBody: (request, model) => ({request: {model: `models/${model}`, contents: request.contents}}),
    // gemini-cli's quota display: the tier from loadCodeAssist, the per-model buckets from retrieveUserQuota.
    async fetchQuota(instance, signal, now) {
      const ask = async (method: string, body: unknown) =>
        fetchJson(
          await call(instance, method),
          {method: 'POST', body: JSON.stringify(body), signal},
          QUOTA_ANSWER_LIMIT,
        )
      const {manager, endpoints} = credentials(geminiCredentialSpec, instance, options)
      const project = await projectFor(instance, (await manager.getAccessToken()).token, endpoints.GEMINI_BASE_URL)
      const load = await ask('loadCodeAssist', {cloudaicompanionProject: project, metadata: CODE_ASSIST_METADATA})
      const quota = await ask('retrieveUserQuota', {project})
      // Without the buckets there is no reading: the tier alone would replace the last one in the pool entry.
      return quota === undefined ? null : readCodeAssistQuota(quota, load, now)
    },
    exchange: protocolExchange('gemini', {
      bodies: (input) => async (instance) => {
        const {manager, endpoints} = credentials(geminiCredentialSpec, instance, options)
        const project = await projectFor(instance, (await manager.getAccessToken()).token, endpoints.GEMINI_BASE_URL)
        const target = {model: input.model, project}
        const body =
          input.clientProtocol === 'gemini'
            ? wrapGeminiBody(input.clientJson as never, target)
            : encodeCodeAssistRequest(input.ir(), target)
        return {body: JSON.stringify(body), createStreamDecoder: createCodeAssistStreamDecoder}
      },
      decodeJson: (body) => decodeCodeAssistResponse(body),
      reshape: {json: unwrapResponse, stream: (opts) => createUnwrappingSseTransform(opts)},
      classify: (status, headers, body, now): Outcome | undefined => {
        if (status === 429) {
          const hint = googleRetryHint(body, now)
          const delay = hint.delayMs ?? retryAfterMs(headers, now)
          const reason = hint.reason
            ? `${hint.terminal ? 'quota exhausted' : 'rate limited'} (${hint.reason})`
            : undefined
          return hint.terminal
            ? {kind: 'quota', retryAfterMs: delay, reason}
            : {kind: 'rate_limited', retryAfterMs: delay, reason}
        }
        // Licence missing, project not set up, account validation: the account needs its owner's attention.
        if (status === 403) return {kind: 'auth', reason: `needs attention: ${text(body).slice(0, 200)}`}
        return undefined
      },
    }),
    ...tokenHooks(geminiCredentialSpec, options),
  }
}

/** `claude-kiro-oauth`: CodeWhisperer's generateAssistantResponse, answered as an AWS event stream. */
export function kiroOAuth(options: OAuthAdapterOptions): ProviderAdapter {
  const call = async (instance: PoolInstance, path: (token: KiroToken) => string, accept: string) => {
    const {manager, endpoints} = credentials(kiroCredentialSpec, instance, options)
    const token = await manager.getAccessToken()
    return {
      url: `${withRegion(endpoints.KIRO_BASE_URL, token.region)}${path(token)}`,
      headers: {
        authorization: `Bearer ${token.token}`,
        'content-type': JSON_TYPE,
        accept,
        'amz-sdk-invocation-id': randomUUID(),
        'amz-sdk-request': 'attempt=1; max=1',
        // One stable, honest agent per instance: never a rotated fingerprint or another product's name.
        'user-agent': instanceField(instance, 'KIRO_USER_AGENT') ?? USER_AGENT,
      },
      dispatcher: options.dispatchers.get(proxyOf(instance)),
    }
  }
  return {
    type: 'claude-kiro-oauth',
    protocol: 'anthropic',
    passthrough: false,
    prepare: (instance) => call(instance, () => '/generateAssistantResponse', 'application/vnd.amazon.eventstream'),
    async fetchQuota(instance, signal, now) {
      // Only social logins carry a profile, as in their generation requests.
      const path = (token: KiroToken) =>
        kiroUsageLimitsPath(token.authMethod === 'social' ? (token.profileArn ?? undefined) : undefined)
      const answer = await fetchJson(await call(instance, path, JSON_TYPE), {method: 'GET', signal}, QUOTA_ANSWER_LIMIT)
      return readKiroUsageLimits(answer, now)
    },
    exchange: protocolExchange('anthropic', {
      alwaysStreams: true,
      bodies: (input) => (instance) => kiroBody(instance, input, options),
      classify: (status, headers, body, now): Outcome | undefined => {
        const message = text(body)
        if (status === 402)
          return {
            kind: 'quota',
            retryAfterMs: nextMonthStartUtc(now) - now,
            reason: `monthly limit reached: ${message.slice(0, 200)}`,
          }
        if (status === 403) {
          if (/(token|authoriz)/i.test(message) && /(expired|invalid)/i.test(message)) return {kind: 'auth'}
          if (/suspend|terms|quota|not authorized/i.test(message))
            return {kind: 'auth', reason: `account refused: ${message.slice(0, 200)}`}
        }
        if (status === 429) return {kind: 'rate_limited', retryAfterMs: retryAfterMs(headers, now)}
        return undefined
      },
    }),
    ...tokenHooks(kiroCredentialSpec, options),
  }
}

/** A Kiro body is built per attempt: the profile comes with the instance's token, and the decoder maps tool names back. */
async function kiroBody(instance: PoolInstance, input: BodyInput, options: OAuthAdapterOptions) {
  const token = await credentials(kiroCredentialSpec, instance, options).manager.getAccessToken()
  const overrides =
    instance.raw.KIRO_MODEL_MAP && typeof instance.raw.KIRO_MODEL_MAP === 'object'
      ? (instance.raw.KIRO_MODEL_MAP as Record<string, string>)
      : undefined
  const {body, toolNameMap} = encodeKiroRequest(input.ir(), {
    conversationId: randomUUID(),
    // Said on the debug channel: the client asked for one model and is served by another.
    modelId: kiroModelId(input.model, overrides, (model, id) =>
      input.onDropped?.(`model name ${model} (unknown to Kiro; sent as ${id})`),
    ),
    // Only social logins carry a profile; builder-id requests are refused with one.
    ...(token.authMethod === 'social' && token.profileArn ? {profileArn: token.profileArn} : {}),
  })
  return {
    body: JSON.stringify(body),
    createStreamDecoder: (opts?: StreamDecoderOptions) =>
      createKiroStreamDecoder({...opts, model: input.model, toolNameMap}),
  }
}
