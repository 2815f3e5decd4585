import {UsageError} from '../errors.js'

/**
 * Every URL the OAuth flows, the token refreshes and the OAuth adapters talk to. `{region}` in a value is replaced
 * with the account's AWS region. Defaults are the public services; each is overridable for tests, proxies and
 * enterprise tenants through `AICLIENT_<KEY>` and, for the keys a pool instance may carry, through the instance.
 */
export interface OAuthEndpoints {
  /** Origin; `/api/v1/oauth2/device/code` and `/api/v1/oauth2/token` are appended. */
  QWEN_OAUTH_BASE_URL: string
  /** OpenAI-compatible base including `/v1`; null means "from the credential's resource_url". */
  QWEN_BASE_URL: string | null
  /** Code Assist origin; `/v1internal:<method>` is appended. */
  GEMINI_BASE_URL: string
  GOOGLE_AUTH_URL: string
  GOOGLE_TOKEN_URL: string
  GOOGLE_USERINFO_URL: string
  /** Origin; `/login` and `/oauth/token` are appended. */
  KIRO_AUTH_SERVICE_URL: string
  /** Origin; `/client/register`, `/device_authorization` and `/token` are appended. */
  AWS_SSO_OIDC_URL: string
  /** Origin; `/generateAssistantResponse` is appended. */
  KIRO_BASE_URL: string
  /** Full URL of the social-login refresh. */
  KIRO_REFRESH_URL: string
  /** Full URL of the builder-id / IAM Identity Center refresh. */
  KIRO_REFRESH_IDC_URL: string
  /** Full URL of the CodeWhisperer ListProfiles call. */
  KIRO_PROFILE_URL: string
}

export type EndpointKey = keyof OAuthEndpoints

const DEFAULTS: Omit<OAuthEndpoints, 'KIRO_REFRESH_URL' | 'KIRO_REFRESH_IDC_URL'> = {
  QWEN_OAUTH_BASE_URL: 'https://chat.qwen.ai',
  QWEN_BASE_URL: null,
  GEMINI_BASE_URL: 'https://cloudcode-pa.googleapis.com',
  GOOGLE_AUTH_URL: 'https://accounts.google.com/o/oauth2/v2/auth',
  GOOGLE_TOKEN_URL: 'https://oauth2.googleapis.com/token',
  GOOGLE_USERINFO_URL: 'https://www.googleapis.com/oauth2/v2/userinfo',
  KIRO_AUTH_SERVICE_URL: 'https://prod.us-east-1.auth.desktop.kiro.dev',
  AWS_SSO_OIDC_URL: 'https://oidc.{region}.amazonaws.com',
  KIRO_BASE_URL: 'https://q.{region}.amazonaws.com',
  KIRO_PROFILE_URL: 'https://codewhisperer.us-east-1.amazonaws.com/',
}

/** The per-instance fields of provider_pools.json that mean the same as their `AICLIENT_` twins. */
export const INSTANCE_ENDPOINT_KEYS = [
  'GEMINI_BASE_URL',
  'KIRO_BASE_URL',
  'KIRO_REFRESH_URL',
  'KIRO_REFRESH_IDC_URL',
  'QWEN_BASE_URL',
  'QWEN_OAUTH_BASE_URL',
] as const satisfies readonly EndpointKey[]

/**
 * Resolves the endpoints: the instance's own field, else `AICLIENT_<KEY>`, else the default. The refresh URLs
 * follow an overridden auth service or SSO OIDC origin, so pointing one variable at a fake moves the whole flow.
 */
export function resolveEndpoints(
  env: NodeJS.ProcessEnv = process.env,
  instance: Record<string, unknown> = {},
): OAuthEndpoints {
  const pick = (key: EndpointKey): string | undefined => {
    const own = (INSTANCE_ENDPOINT_KEYS as readonly string[]).includes(key) ? instance[key] : undefined
    if (typeof own === 'string' && own !== '') return trimSlash(own)
    const fromEnv = env[`AICLIENT_${key}`]
    if (fromEnv === undefined || fromEnv === '') return undefined
    if (!isHttpUrl(fromEnv))
      throw new UsageError(`AICLIENT_${key}="${fromEnv}" is not an http(s) URL.`, {code: 'invalid_url'})
    return trimSlash(fromEnv)
  }
  const resolved: Record<string, string | null> = {}
  for (const [key, value] of Object.entries(DEFAULTS)) resolved[key] = pick(key as EndpointKey) ?? value
  const authService = pick('KIRO_AUTH_SERVICE_URL')
  const oidc = pick('AWS_SSO_OIDC_URL')
  return {
    ...(resolved as typeof DEFAULTS),
    KIRO_REFRESH_URL:
      pick('KIRO_REFRESH_URL') ?? `${authService ?? 'https://prod.{region}.auth.desktop.kiro.dev'}/refreshToken`,
    KIRO_REFRESH_IDC_URL: pick('KIRO_REFRESH_IDC_URL') ?? `${oidc ?? DEFAULTS.AWS_SSO_OIDC_URL}/token`,
  }
}

export function withRegion(url: string, region: string): string {
  return url.replaceAll('{region}', region)
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(withRegion(value, 'us-east-1'))
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}
