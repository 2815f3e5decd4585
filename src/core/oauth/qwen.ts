import {randomUUID} from 'node:crypto'
import {AppError} from '../errors.js'
import {stringField, type CredentialJson} from './credential-file.js'
import {pollForToken, qwenPollRules, type PollOutcome} from './device-flow.js'
import {OAuthError, rejected} from './errors.js'
import {httpOf, offerUrl, type FlowContext, type LoginResult} from './flow.js'
import {isOk, oauthErrorCode, objectOf, postForm, serverSays} from './http.js'
import {createPkcePair} from './pkce.js'
import {refreshReply, UnusableCredentials, type AccessToken, type CredentialSpec} from './token-manager.js'

// qwen-code packages/core/src/qwen/qwenOAuth2.ts
export const QWEN_CLIENT_ID = 'f0304373b74a44d2b584a3fb70ca9e56'
export const QWEN_SCOPE = 'openid profile email model.completion'
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
export const QWEN_DEFAULT_API_BASE = 'https://dashscope.aliyuncs.com/compatible-mode/v1'

/** The fields of qwen-code's oauth_creds.json; a login replaces these and keeps any others. */
export const QWEN_FIELDS = ['access_token', 'refresh_token', 'token_type', 'resource_url', 'expiry_date'] as const

export const QWEN_NOTICE =
  'Qwen shut down its free OAuth tier on 2026-04-15: the server may refuse this login or later requests. Whatever it answers is shown as is.'

export const qwenDeviceCodeUrl = (base: string) => `${base}/api/v1/oauth2/device/code`
export const qwenTokenUrl = (base: string) => `${base}/api/v1/oauth2/token`

export interface QwenLoginOptions extends FlowContext {
  /** Origin of the OAuth server (AICLIENT_QWEN_OAUTH_BASE_URL). */
  oauthBaseUrl: string
}

/** Device authorization with PKCE, polled the way qwen-code polls. Returns qwen-code's credential file content. */
export async function loginQwen(options: QwenLoginOptions): Promise<LoginResult> {
  const now = options.now ?? Date.now
  const http = httpOf(options)
  const pkce = createPkcePair()
  const reply = await postForm(
    qwenDeviceCodeUrl(options.oauthBaseUrl),
    {client_id: QWEN_CLIENT_ID, scope: QWEN_SCOPE, code_challenge: pkce.challenge, code_challenge_method: pkce.method},
    http,
    {'x-request-id': randomUUID()},
  )
  const device = objectOf(reply.json)
  if (!isOk(reply) || typeof device?.device_code !== 'string' || typeof device.error === 'string') {
    throw rejected('Qwen device authorization', reply, [
      'Qwen ended its free OAuth tier on 2026-04-15; an account without access is refused here.',
    ])
  }
  const expiresIn = typeof device.expires_in === 'number' && device.expires_in > 0 ? device.expires_in : 1800
  const expiresAt = now() + expiresIn * 1000
  const url = String(device.verification_uri_complete ?? device.verification_uri ?? '')
  await offerUrl(options, {type: 'device_code', url, userCode: String(device.user_code ?? ''), expiresAt})
  const deviceCode = device.device_code
  const token = await pollForToken(
    () => pollQwen(options.oauthBaseUrl, deviceCode, pkce.verifier, options),
    qwenPollRules(typeof device.interval === 'number' ? device.interval : undefined),
    expiresAt,
    options,
  )
  const credentials = qwenCredentials(token, {}, now())
  return {provider: 'qwen', credentials, expiresAt: new Date(credentials.expiry_date as number), account: null}
}

async function pollQwen(
  base: string,
  deviceCode: string,
  verifier: string,
  ctx: FlowContext,
): Promise<PollOutcome<Record<string, unknown>>> {
  let reply
  try {
    const fields = {
      grant_type: DEVICE_GRANT,
      client_id: QWEN_CLIENT_ID,
      device_code: deviceCode,
      code_verifier: verifier,
    }
    reply = await postForm(qwenTokenUrl(base), fields, httpOf(ctx))
  } catch (error) {
    if (error instanceof AppError && error.code === 'network_error') return {kind: 'retry', message: error.message}
    throw error
  }
  const body = objectOf(reply.json)
  if (isOk(reply) && typeof body?.access_token === 'string' && body.access_token !== '')
    return {kind: 'token', token: body}
  const code = oauthErrorCode(reply)
  if (code === 'authorization_pending') return {kind: 'pending'}
  if (code === 'slow_down') return {kind: 'slow_down'}
  if (code === 'access_denied') throw new OAuthError(`The login was denied: ${serverSays(reply)}.`, 'oauth_denied')
  if (code === 'expired_token' || reply.status === 401) {
    throw new OAuthError(`The device code expired or is no longer valid: ${serverSays(reply)}.`, 'oauth_expired', [
      'Run the login again.',
    ])
  }
  if (reply.status === 429) {
    throw new OAuthError(`Qwen is rate-limiting this login: ${serverSays(reply)}.`, 'oauth_rate_limited', [
      'Wait a while, then try again.',
    ])
  }
  if (reply.status >= 500) return {kind: 'retry', message: `Qwen answered ${serverSays(reply)}`}
  throw rejected('Qwen token request', reply)
}

/** qwen-code's format: ms-epoch `expiry_date`, the refresh token kept when the server sends no new one. */
function qwenCredentials(token: Record<string, unknown>, previous: CredentialJson, now: number): CredentialJson {
  const expiresIn = typeof token.expires_in === 'number' && token.expires_in > 0 ? token.expires_in : 3600
  const next: CredentialJson = {
    ...previous,
    access_token: token.access_token,
    refresh_token: stringField(token, 'refresh_token') ?? previous.refresh_token,
    token_type: stringField(token, 'token_type') ?? stringField(previous, 'token_type') ?? 'Bearer',
    expiry_date: now + expiresIn * 1000,
  }
  const resourceUrl = stringField(token, 'resource_url') ?? stringField(previous, 'resource_url')
  if (resourceUrl) next.resource_url = resourceUrl
  if (next.refresh_token === undefined) delete next.refresh_token
  return next
}

export interface QwenToken extends AccessToken {
  /** Host of the account's API (`portal.qwen.ai`), or null when the server named none. */
  resourceUrl: string | null
}

export const qwenCredentialSpec: CredentialSpec<QwenToken> = {
  provider: 'qwen',
  leadMs: 30_000,
  read(content) {
    const token = stringField(content, 'access_token')
    const expiry = content.expiry_date
    if (!token || typeof expiry !== 'number') throw new UnusableCredentials('access_token or expiry_date is missing')
    return {
      token,
      expiresAt: new Date(expiry),
      tokenType: stringField(content, 'token_type') ?? 'Bearer',
      resourceUrl: stringField(content, 'resource_url') ?? null,
    }
  },
  async refresh(content, ctx) {
    const refreshToken = stringField(content, 'refresh_token')
    if (!refreshToken) throw new UnusableCredentials('the file holds no refresh_token')
    const url = qwenTokenUrl(ctx.endpoints.QWEN_OAUTH_BASE_URL)
    const reply = await postForm(
      url,
      {grant_type: 'refresh_token', refresh_token: refreshToken, client_id: QWEN_CLIENT_ID},
      ctx.http,
    )
    return qwenCredentials(refreshReply(reply, url, 'access_token'), content, ctx.now)
  },
}

/**
 * The OpenAI-compatible base for an account, as qwen-code derives it: `https://` added, `/v1` appended.
 * An explicit base (the instance's QWEN_BASE_URL or AICLIENT_QWEN_BASE_URL) wins.
 */
export function qwenApiBaseUrl(resourceUrl: string | null, explicitBase?: string | null): string {
  if (explicitBase) return explicitBase.replace(/\/+$/, '')
  if (!resourceUrl) return QWEN_DEFAULT_API_BASE
  const withScheme = /^https?:\/\//i.test(resourceUrl) ? resourceUrl : `https://${resourceUrl}`
  const trimmed = withScheme.replace(/\/+$/, '')
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`
}
