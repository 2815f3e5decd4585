// Fake Qwen Code portal (reference §8), the `openai-qwen-oauth` provider: the OpenAI fake at the base a
// credential's resource_url leads to (store `fake.url` as resource_url; `${resource_url}/v1` is `fake.baseUrl`),
// plus qwen-code's DashScope headers, OAuth access tokens and the free allocation that runs out for the day.
import {
  header,
  startFake,
  type Behaviour,
  type ErrorReply,
  type FakeUpstream,
  type RecordedRequest,
} from './fake-server.js'
import {openAIAdapter, openAIError, type OpenAIFakeOptions} from './openai-fake.js'

export interface QwenPortalFakeOptions extends Omit<OpenAIFakeOptions, 'keys'> {
  /** Accepted access tokens; tests add and delete entries while the fake runs. Absent: any token, or none */
  tokens?: Set<string>
  /** Reject requests that lack qwen-code's DashScope headers and QwenCode User-Agent */
  requireDashScopeHeaders?: boolean
}

export const QWEN_MODELS = ['qwen3-coder-plus', 'qwen3-coder-flash', 'coder-model', 'vision-model']

const QWEN_CODE_UA = /^QwenCode\/\S+/

// What qwen-code's DashScope provider sends on every request
const DASHSCOPE_HEADERS: [name: string, expected: RegExp, shown: string][] = [
  ['x-dashscope-authtype', /^qwen-oauth$/, 'X-DashScope-AuthType: qwen-oauth'],
  ['x-dashscope-cachecontrol', /^enable$/, 'X-DashScope-CacheControl: enable'],
  ['user-agent', QWEN_CODE_UA, 'User-Agent: QwenCode/<version> (<platform>; <arch>)'],
  ['x-dashscope-useragent', QWEN_CODE_UA, 'X-DashScope-UserAgent: QwenCode/<version> (<platform>; <arch>)'],
]

export interface QwenQuotaOptions {
  /** Default 429 */
  status?: 403 | 429
  /** Default 'insufficient_quota' */
  code?: 'insufficient_quota' | 'quota_exceeded'
}

/** The portal's answer once the free daily allocation is used up (clients cool down until 00:00 Asia/Shanghai) */
export function qwenQuotaExceeded(opts: QwenQuotaOptions = {}): Behaviour {
  const status = opts.status ?? 429
  const code = opts.code ?? 'insufficient_quota'
  return {
    kind: 'status',
    status,
    body: openAIError(status, {message: 'Free allocated quota exceeded.', type: code, code}),
  }
}

function missingDashScopeHeader(req: RecordedRequest): ErrorReply | undefined {
  const missing = DASHSCOPE_HEADERS.find(([name, expected]) => !expected.test(header(req, name) ?? ''))
  return missing && {status: 400, body: openAIError(400, {message: `Missing or invalid header: ${missing[2]}`})}
}

export function startQwenPortalFake(opts: QwenPortalFakeOptions = {}): Promise<FakeUpstream> {
  return startFake({name: 'qwen-portal-fake'}, opts, ({eol}) => {
    const openai = openAIAdapter({...opts, models: opts.models ?? QWEN_MODELS}, eol)
    return {
      ...openai,
      authenticate(req) {
        // qwen-code refreshes once on this message (or "token expired") and retries
        if (opts.tokens && (req.key === undefined || !opts.tokens.has(req.key))) {
          return {status: 401, body: openAIError(401, {message: 'invalid access token or token expired'})}
        }
        return opts.requireDashScopeHeaders ? missingDashScopeHeader(req) : undefined
      },
    }
  })
}
