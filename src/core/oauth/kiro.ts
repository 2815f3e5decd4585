import {dirname, join} from 'node:path'
import {AppError} from '../errors.js'
import {CallbackWaiter} from './callback.js'
import {readCredentialJson, stringField, type CredentialJson} from './credential-file.js'
import {pollForToken, rfc8628PollRules, type PollOutcome} from './device-flow.js'
import {withRegion, type OAuthEndpoints} from './endpoints.js'
import {OAuthError, rejected} from './errors.js'
import {httpOf, offerUrl, type FlowContext, type LoginResult, type PendingLogin} from './flow.js'
import {isOk, oauthErrorCode, objectOf, postJson, serverSays, type HttpContext} from './http.js'
import {createPkcePair, randomState} from './pkce.js'
import {refreshReply, UnusableCredentials, type AccessToken, type CredentialSpec} from './token-manager.js'

export const KIRO_SCOPES = ['codewhisperer:completions', 'codewhisperer:analysis', 'codewhisperer:conversations']
export const BUILDER_ID_START_URL = 'https://view.awsapps.com/start'
export const KIRO_SOCIAL_REDIRECT_URI = 'kiro://kiro.kiroAgent/authenticate-success'
export const KIRO_DEFAULT_REGION = 'us-east-1'
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** The fields of the Kiro credential formats (Kiro IDE and AIClient-2-API); a login replaces these and keeps others. */
export const KIRO_FIELDS = [
  'accessToken',
  'refreshToken',
  'expiresAt',
  'authMethod',
  'provider',
  'socialProvider',
  'profileArn',
  'region',
  'idcRegion',
  'clientId',
  'clientSecret',
  'clientIdHash',
  'startUrl',
] as const

export const KIRO_NOTICE =
  'Using a Kiro account outside the Kiro IDE may break its terms of service, and accounts have been suspended for it; you decide.'

export type KiroSocialIdp = 'Google' | 'Github'

export interface KiroBuilderIdOptions extends FlowContext {
  endpoints: Pick<OAuthEndpoints, 'AWS_SSO_OIDC_URL' | 'KIRO_PROFILE_URL'>
  region: string
  /** Builder ID's start URL, or an IAM Identity Center organisation's. */
  startUrl: string
}

/** AWS SSO OIDC device flow: register a public client, start device authorization, poll by RFC 8628's rules. */
export async function loginKiroBuilderId(options: KiroBuilderIdOptions): Promise<LoginResult> {
  const now = options.now ?? Date.now
  const http = httpOf(options)
  const oidc = withRegion(options.endpoints.AWS_SSO_OIDC_URL, options.region)
  const registration = {
    clientName: 'Kiro IDE',
    clientType: 'public',
    scopes: KIRO_SCOPES,
    grantTypes: [DEVICE_GRANT, 'refresh_token'],
  }
  const registerReply = await postJson(`${oidc}/client/register`, registration, http)
  const client = objectOf(registerReply.json)
  if (!isOk(registerReply) || typeof client?.clientId !== 'string' || typeof client.clientSecret !== 'string') {
    throw rejected('AWS SSO client registration', registerReply)
  }
  const {clientId, clientSecret} = client
  const deviceReply = await postJson(
    `${oidc}/device_authorization`,
    {clientId, clientSecret, startUrl: options.startUrl},
    http,
  )
  const device = objectOf(deviceReply.json)
  if (!isOk(deviceReply) || typeof device?.deviceCode !== 'string') {
    const hint =
      options.startUrl === BUILDER_ID_START_URL
        ? []
        : [`Check --start-url ${options.startUrl} and --region ${options.region}.`]
    throw rejected('AWS SSO device authorization', deviceReply, hint)
  }
  const expiresAt =
    now() + (typeof device.expiresIn === 'number' && device.expiresIn > 0 ? device.expiresIn : 600) * 1000
  const url = String(device.verificationUriComplete ?? device.verificationUri ?? '')
  await offerUrl(options, {type: 'device_code', url, userCode: String(device.userCode ?? ''), expiresAt})
  const deviceCode = device.deviceCode
  const token = await pollForToken(
    () => pollOidc(`${oidc}/token`, {clientId, clientSecret, deviceCode, grantType: DEVICE_GRANT}, http),
    rfc8628PollRules(typeof device.interval === 'number' ? device.interval : undefined),
    expiresAt,
    options,
  )
  options.onEvent?.({type: 'step', message: 'Looking up the CodeWhisperer profile'})
  const profileArn = await lookupProfileArn(options.endpoints.KIRO_PROFILE_URL, token.accessToken as string, http)
  const credentials: CredentialJson = {
    ...kiroTokenFields(token, {}, now()),
    authMethod: options.startUrl === BUILDER_ID_START_URL ? 'builder-id' : 'IdC',
    clientId,
    clientSecret,
    region: options.region,
    idcRegion: options.region,
  }
  if (options.startUrl !== BUILDER_ID_START_URL) credentials.startUrl = options.startUrl
  if (profileArn) credentials.profileArn = profileArn
  return {provider: 'kiro', credentials, expiresAt: new Date(credentials.expiresAt as string), account: profileArn}
}

async function pollOidc(
  url: string,
  body: Record<string, string>,
  http: HttpContext,
): Promise<PollOutcome<Record<string, unknown>>> {
  let reply
  try {
    reply = await postJson(url, body, http)
  } catch (error) {
    if (error instanceof AppError && error.code === 'network_error') return {kind: 'retry', message: error.message}
    throw error
  }
  const token = objectOf(reply.json)
  if (isOk(reply) && typeof token?.accessToken === 'string') return {kind: 'token', token}
  const code = oauthErrorCode(reply)
  if (code === 'authorization_pending') return {kind: 'pending'}
  if (code === 'slow_down') return {kind: 'slow_down'}
  if (code === 'access_denied') throw new OAuthError(`The login was denied: ${serverSays(reply)}.`, 'oauth_denied')
  if (code === 'expired_token')
    throw new OAuthError(`The device code expired: ${serverSays(reply)}.`, 'oauth_expired', ['Run the login again.'])
  if (reply.status >= 500) return {kind: 'retry', message: `AWS SSO answered ${serverSays(reply)}`}
  throw rejected('AWS SSO token request', reply)
}

export interface KiroSocialOptions extends FlowContext {
  endpoints: Pick<OAuthEndpoints, 'KIRO_AUTH_SERVICE_URL'>
  idp: KiroSocialIdp
  region: string
  /** 10 minutes, as AIClient-2-API. */
  timeoutMs?: number
}

/**
 * Kiro's Google/GitHub login: PKCE and state, a `kiro://` redirect no browser can hand back to us, so the user
 * pastes the URL the browser ends on; then the code is exchanged at the auth service.
 */
export async function startKiroSocialLogin(options: KiroSocialOptions): Promise<PendingLogin> {
  const now = options.now ?? Date.now
  const timeoutMs = options.timeoutMs ?? 10 * 60_000
  const state = randomState(16, 'base64url')
  const pkce = createPkcePair()
  const base = options.endpoints.KIRO_AUTH_SERVICE_URL
  const url = new URL(`${base}/login`)
  for (const [key, value] of Object.entries({
    idp: options.idp,
    redirect_uri: KIRO_SOCIAL_REDIRECT_URI,
    code_challenge: pkce.challenge,
    code_challenge_method: pkce.method,
    state,
    prompt: 'select_account',
  })) {
    url.searchParams.set(key, value)
  }
  const waiter = new CallbackWaiter(state, timeoutMs, options.signal, (message) =>
    options.onEvent?.({type: 'callback_rejected', message}),
  )
  await offerUrl(options, {type: 'authorize', url: url.href, callback: 'paste', expiresAt: now() + timeoutMs})
  const result = waiter.code.then(async (code) => {
    options.onEvent?.({type: 'step', message: 'Exchanging the authorization code'})
    const reply = await postJson(
      `${base}/oauth/token`,
      {code, code_verifier: pkce.verifier, redirect_uri: KIRO_SOCIAL_REDIRECT_URI},
      httpOf(options),
    )
    const token = objectOf(reply.json)
    if (!isOk(reply) || typeof token?.accessToken !== 'string') throw rejected('Kiro token exchange', reply)
    // `provider` is the Kiro IDE's name for the field, `socialProvider` AIClient-2-API's.
    const credentials: CredentialJson = {
      ...kiroTokenFields(token, {}, now()),
      authMethod: 'social',
      provider: options.idp,
      socialProvider: options.idp,
      region: options.region,
    }
    const account = stringField(credentials, 'profileArn') ?? null
    return {provider: 'kiro' as const, credentials, expiresAt: new Date(credentials.expiresAt as string), account}
  })
  result.catch(() => {})
  return {authUrl: url.href, submitRedirectUrl: (input) => waiter.submit(input), result}
}

/** CodeWhisperer ListProfiles; Builder ID logins carry no profile ARN. Best effort: no profile is not a failure. */
async function lookupProfileArn(url: string, accessToken: string, http: HttpContext): Promise<string | null> {
  try {
    const reply = await postJson(url, {origin: 'AI_EDITOR'}, http, {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonCodeWhispererService.ListProfiles',
    })
    const body = objectOf(reply.json)
    if (!isOk(reply) || !body) return null
    const first = Array.isArray(body.profiles) ? objectOf(body.profiles[0]) : undefined
    return stringField(first ?? {}, 'arn') ?? stringField(body, 'profileArn') ?? null
  } catch (error) {
    if (error instanceof AppError && error.code === 'network_error') return null
    throw error
  }
}

/** Token fields merged over the previous content: ISO-8601 `expiresAt`, old refresh token and profile kept when absent. */
function kiroTokenFields(token: Record<string, unknown>, previous: CredentialJson, now: number): CredentialJson {
  const expiresIn = typeof token.expiresIn === 'number' && token.expiresIn > 0 ? token.expiresIn : 3600
  const next: CredentialJson = {...previous, accessToken: token.accessToken}
  const refreshToken = stringField(token, 'refreshToken') ?? stringField(previous, 'refreshToken')
  if (refreshToken) next.refreshToken = refreshToken
  const profileArn = stringField(token, 'profileArn') ?? stringField(previous, 'profileArn')
  if (profileArn) next.profileArn = profileArn
  next.expiresAt = new Date(now + expiresIn * 1000).toISOString()
  return next
}

export type KiroAuthMethod = 'social' | 'idc'

/** `social` → Kiro's refresh; `builder-id`, `IdC` → SSO OIDC; unset → OIDC only when there is a client to refresh with. */
export function kiroAuthMethod(content: CredentialJson): KiroAuthMethod {
  const method = stringField(content, 'authMethod')?.toLowerCase()
  if (method === 'social') return 'social'
  if (method === 'builder-id' || method === 'idc') return 'idc'
  return (stringField(content, 'clientId') && stringField(content, 'clientSecret')) ||
    stringField(content, 'clientIdHash')
    ? 'idc'
    : 'social'
}

export interface KiroToken extends AccessToken {
  profileArn: string | null
  region: string
  authMethod: KiroAuthMethod
}

export const kiroCredentialSpec: CredentialSpec<KiroToken> = {
  provider: 'kiro',
  leadMs: 10 * 60_000,
  read(content) {
    const token = stringField(content, 'accessToken')
    const expiresAt =
      typeof content.expiresAt === 'number'
        ? new Date(content.expiresAt)
        : new Date(stringField(content, 'expiresAt') ?? NaN)
    if (!token || Number.isNaN(expiresAt.getTime()))
      throw new UnusableCredentials('accessToken or expiresAt is missing')
    return {
      token,
      expiresAt,
      tokenType: 'Bearer',
      profileArn: stringField(content, 'profileArn') ?? null,
      region: stringField(content, 'region') ?? KIRO_DEFAULT_REGION,
      authMethod: kiroAuthMethod(content),
    }
  },
  async refresh(content, ctx) {
    const refreshToken = stringField(content, 'refreshToken')
    if (!refreshToken) throw new UnusableCredentials('the file holds no refreshToken')
    const region = stringField(content, 'region') ?? KIRO_DEFAULT_REGION
    if (kiroAuthMethod(content) === 'social') {
      const url = withRegion(ctx.endpoints.KIRO_REFRESH_URL, region)
      const reply = await postJson(url, {refreshToken}, ctx.http)
      return kiroTokenFields(refreshReply(reply, url, 'accessToken'), content, ctx.now)
    }
    const {clientId, clientSecret} = await oidcClient(content, ctx.file)
    const url = withRegion(ctx.endpoints.KIRO_REFRESH_IDC_URL, stringField(content, 'idcRegion') ?? region)
    const reply = await postJson(url, {clientId, clientSecret, refreshToken, grantType: 'refresh_token'}, ctx.http)
    return kiroTokenFields(refreshReply(reply, url, 'accessToken'), content, ctx.now)
  },
}

/** The OIDC client: in the file (AIClient-2-API) or, for the Kiro IDE, in the sibling `<clientIdHash>.json`. */
async function oidcClient(content: CredentialJson, file: string): Promise<{clientId: string; clientSecret: string}> {
  let source = content
  const hash = stringField(content, 'clientIdHash')
  if (!stringField(content, 'clientId') && hash) {
    const sibling = join(dirname(file), `${hash.replace(/[/\\]/g, '')}.json`)
    const registration = await readCredentialJson(sibling).catch(() => null)
    if (!registration) throw new UnusableCredentials(`the client registration ${sibling} cannot be read`)
    source = registration
  }
  const clientId = stringField(source, 'clientId')
  const clientSecret = stringField(source, 'clientSecret')
  if (!clientId || !clientSecret) throw new UnusableCredentials('clientId or clientSecret is missing')
  return {clientId, clientSecret}
}
