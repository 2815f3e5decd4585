import {AppError} from '../errors.js'
import {CallbackWaiter, startLoopback} from './callback.js'
import {stringField, type CredentialJson} from './credential-file.js'
import type {OAuthEndpoints} from './endpoints.js'
import {OAuthError, rejected} from './errors.js'
import {httpOf, offerUrl, type FlowContext, type PendingLogin} from './flow.js'
import {getJson, isOk, objectOf, postForm} from './http.js'
import {createPkcePair, randomState} from './pkce.js'
import {refreshReply, UnusableCredentials, type AccessToken, type CredentialSpec} from './token-manager.js'

// gemini-cli packages/core/src/code_assist/oauth2.ts: an "installed application" client, whose secret is public.
export const GEMINI_CLIENT_ID = '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com'
export const GEMINI_CLIENT_SECRET = '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'
export const GEMINI_SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile',
]
export const GEMINI_CALLBACK_PATH = '/oauth2callback'

/** google-auth-library `Credentials` as gemini-cli writes them; a login replaces these and keeps any others. */
export const GEMINI_FIELDS = [
  'access_token',
  'refresh_token',
  'scope',
  'token_type',
  'id_token',
  'expiry_date',
] as const

export const GEMINI_NOTICE =
  'Gemini Code Assist now serves only Standard and Enterprise licences (the free and individual tiers stopped on 2026-06-18); ' +
  'other accounts can sign in but get no project.'

export interface GeminiLoginOptions extends FlowContext {
  endpoints: Pick<OAuthEndpoints, 'GOOGLE_AUTH_URL' | 'GOOGLE_TOKEN_URL' | 'GOOGLE_USERINFO_URL'>
  /** Loopback port; 0 or absent picks a free one. */
  port?: number
  /** 5 minutes, as gemini-cli. */
  timeoutMs?: number
}

/**
 * The installed-app loopback flow: a listener on 127.0.0.1, `state` and S256 PKCE, and an authorization URL that
 * also works from a browser on another machine (the user then pastes the URL the browser failed to load).
 */
export async function startGeminiLogin(options: GeminiLoginOptions): Promise<PendingLogin> {
  const now = options.now ?? Date.now
  const timeoutMs = options.timeoutMs ?? 5 * 60_000
  const state = randomState(32, 'hex')
  const pkce = createPkcePair()
  const waiter = new CallbackWaiter(state, timeoutMs, options.signal, (message) =>
    options.onEvent?.({type: 'callback_rejected', message}),
  )
  let redirectUri: string
  try {
    redirectUri = await startLoopback({port: options.port, path: GEMINI_CALLBACK_PATH, waiter})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const failure =
      code === 'EADDRINUSE'
        ? new AppError(`Port ${options.port} on 127.0.0.1 is already in use.`, {
            code: 'port_in_use',
            suggestions: ['Pick another with --port, or leave it out for a free one.'],
          })
        : (error as Error)
    // Also stops the waiter's timer.
    waiter.fail(failure)
    throw failure
  }
  const url = new URL(options.endpoints.GOOGLE_AUTH_URL)
  for (const [key, value] of Object.entries({
    access_type: 'offline',
    // Without consent Google omits the refresh token for an account that signed in before, and serve needs one.
    prompt: 'consent',
    scope: GEMINI_SCOPES.join(' '),
    state,
    response_type: 'code',
    client_id: GEMINI_CLIENT_ID,
    redirect_uri: redirectUri,
    code_challenge: pkce.challenge,
    code_challenge_method: pkce.method,
  })) {
    url.searchParams.set(key, value)
  }
  const authUrl = url.href
  await offerUrl(options, {type: 'authorize', url: authUrl, callback: 'either', expiresAt: now() + timeoutMs})
  const result = waiter.code.then(async (code) => {
    options.onEvent?.({type: 'step', message: 'Exchanging the authorization code'})
    const reply = await postForm(
      options.endpoints.GOOGLE_TOKEN_URL,
      {
        code,
        client_id: GEMINI_CLIENT_ID,
        client_secret: GEMINI_CLIENT_SECRET,
        redirect_uri: redirectUri,
        grant_type: 'authorization_code',
        code_verifier: pkce.verifier,
      },
      httpOf(options),
    )
    const token = objectOf(reply.json)
    if (!isOk(reply) || typeof token?.access_token !== 'string') throw rejected('Google token exchange', reply)
    if (typeof token.refresh_token !== 'string' || token.refresh_token === '') {
      throw new OAuthError(
        'Google returned no refresh token, so the login could not be kept fresh.',
        'oauth_no_refresh_token',
        ["Remove the app's access at https://myaccount.google.com/permissions and log in again."],
      )
    }
    const credentials = geminiCredentials(token, {}, now())
    options.onEvent?.({type: 'step', message: 'Reading the account'})
    const account = await readEmail(token.access_token, options)
    return {provider: 'gemini' as const, credentials, expiresAt: new Date(credentials.expiry_date as number), account}
  })
  result.catch(() => {})
  return {authUrl, submitRedirectUrl: (input) => waiter.submit(input), result}
}

/** The email is only a display name: a userinfo failure does not fail the login. */
async function readEmail(accessToken: string, options: GeminiLoginOptions): Promise<string | null> {
  try {
    const reply = await getJson(options.endpoints.GOOGLE_USERINFO_URL, httpOf(options), {
      authorization: `Bearer ${accessToken}`,
    })
    const email = objectOf(reply.json)?.email
    return isOk(reply) && typeof email === 'string' ? email : null
  } catch (error) {
    if (error instanceof AppError && error.code === 'network_error') return null
    throw error
  }
}

/** Merges a token response into the file: ms-epoch expiry, and the old refresh token when Google sends none. */
function geminiCredentials(token: Record<string, unknown>, previous: CredentialJson, now: number): CredentialJson {
  const expiresIn = typeof token.expires_in === 'number' && token.expires_in > 0 ? token.expires_in : 3600
  const next: CredentialJson = {...previous, access_token: token.access_token}
  const refreshToken = stringField(token, 'refresh_token') ?? stringField(previous, 'refresh_token')
  if (refreshToken) next.refresh_token = refreshToken
  for (const key of ['scope', 'token_type', 'id_token']) {
    const value = stringField(token, key)
    if (value) next[key] = value
  }
  next.token_type ??= 'Bearer'
  next.expiry_date = now + expiresIn * 1000
  return next
}

export type GeminiToken = AccessToken

export const geminiCredentialSpec: CredentialSpec<GeminiToken> = {
  provider: 'gemini',
  // google-auth-library's eagerRefreshThresholdMillis
  leadMs: 5 * 60_000,
  read(content) {
    const token = stringField(content, 'access_token')
    const expiry = content.expiry_date
    if (!token || typeof expiry !== 'number') throw new UnusableCredentials('access_token or expiry_date is missing')
    return {token, expiresAt: new Date(expiry), tokenType: stringField(content, 'token_type') ?? 'Bearer'}
  },
  async refresh(content, ctx) {
    const refreshToken = stringField(content, 'refresh_token')
    if (!refreshToken) throw new UnusableCredentials('the file holds no refresh_token')
    const url = ctx.endpoints.GOOGLE_TOKEN_URL
    const fields = {
      client_id: GEMINI_CLIENT_ID,
      client_secret: GEMINI_CLIENT_SECRET,
      refresh_token: refreshToken,
      grant_type: 'refresh_token',
    }
    const reply = await postForm(url, fields, ctx.http)
    return geminiCredentials(refreshReply(reply, url, 'access_token'), content, ctx.now)
  },
}
