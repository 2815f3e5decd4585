// A fake Google OAuth server plus Code Assist project setup: the authorization endpoint "consents" at once by
// redirecting to redirect_uri with a code (so following it plays the browser), the token endpoint checks
// everything an installed-app exchange must send, userinfo answers an email, and v1internal loadCodeAssist /
// onboardUser / operations cover project discovery.
import {request} from 'undici'
import {
  idMaker,
  json,
  oauthError,
  pkceMatches,
  ReplyQueue,
  startFakeOAuthServer,
  type FakeOAuthServer,
  type ScriptedReply,
} from './server.js'

export const GOOGLE_CLIENT_ID = '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com'
export const GOOGLE_CLIENT_SECRET = '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'

export interface FakeCodeAssistOptions {
  /** The account's tier when already onboarded; null: not onboarded yet, onboardUser runs. Default 'standard-tier' */
  currentTier?: string | null
  /** Default 'fake-project-123' */
  project?: string
  /** Tiers loadCodeAssist offers for onboarding; default one default 'standard-tier' */
  allowedTiers?: Array<{id: string; isDefault?: boolean; userDefinedCloudaicompanionProject?: boolean}>
  ineligibleTiers?: Array<{tierId: string; reasonCode: string; reasonMessage: string}>
  /** onboardUser: finished at once, a long-running operation read with GET, or repeated posts; default 'operation' */
  onboarding?: 'immediate' | 'operation' | 'repost'
  /** Replaces the loadCodeAssist answer */
  loadReply?: ScriptedReply
}

export interface FakeGoogleOAuthOptions {
  email?: string
  /** Access-token lifetime; default 3599 */
  expiresIn?: number
  /** The code exchange answers without refresh_token, as Google does for an account that consented before */
  omitRefreshToken?: boolean
  /** Delay of every refresh answer */
  refreshDelayMs?: number
  codeAssist?: FakeCodeAssistOptions
}

export interface FakeGoogleOAuth extends FakeOAuthServer {
  readonly authUrl: string
  readonly tokenUrl: string
  readonly userinfoUrl: string
  /** Environment that points aiclient at this fake (Google URLs and the Code Assist origin) */
  readonly env: Record<string, string>
  /**
   * Plays a consenting user's browser: opens the authorization URL, follows the fake's redirect to the
   * redirect_uri (our loopback) and returns the status and page it answered with.
   */
  browse(authUrl: string, override?: {state?: string; error?: string}): Promise<{status: number; page: string}>
  /** The redirect URL a consenting user's browser would end on, without requesting it */
  redirectFor(authUrl: string): Promise<string>
  enqueueRefreshes(...replies: ScriptedReply[]): void
  readonly refreshCount: number
  issueTokens(): {access_token: string; refresh_token: string}
}

export async function startFakeGoogleOAuth(options: FakeGoogleOAuthOptions = {}): Promise<FakeGoogleOAuth> {
  const codes = new Map<string, {redirectUri: string; challenge: string | null}>()
  const validRefresh = new Set<string>()
  const validAccess = new Set<string>()
  const refreshes = new ReplyQueue<ScriptedReply>()
  const codeId = idMaker('4/0code')
  const accessId = idMaker('ya29.fake')
  const refreshId = idMaker('1//0fake')
  const email = options.email ?? 'user@example.com'
  const assist = options.codeAssist ?? {}
  const project = assist.project ?? 'fake-project-123'
  let refreshCount = 0
  let onboardPolls = 0

  const issueTokens = () => {
    const tokens = {access_token: accessId(), refresh_token: refreshId()}
    validAccess.add(tokens.access_token)
    validRefresh.add(tokens.refresh_token)
    return tokens
  }
  const tokenBody = (access: string, refresh?: string) => ({
    access_token: access,
    expires_in: options.expiresIn ?? 3599,
    scope:
      'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile',
    token_type: 'Bearer',
    id_token: 'eyJ.fake.id',
    ...(refresh ? {refresh_token: refresh} : {}),
  })
  const bearer = (auth: unknown) => typeof auth === 'string' && validAccess.has(auth.replace(/^Bearer /, ''))
  const unauthenticated = json(401, {
    error: {code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED'},
  })
  const operationDone = () => ({
    name: 'operations/onboard-1',
    done: true,
    response: {cloudaicompanionProject: {id: project, name: project}},
  })

  const server = await startFakeOAuthServer((req) => {
    switch (`${req.method} ${req.path}`) {
      case 'GET /o/oauth2/v2/auth': {
        const q = req.query
        if (q.client_id !== GOOGLE_CLIENT_ID) return json(400, 'invalid_client')
        if (!q.redirect_uri?.startsWith('http://127.0.0.1:'))
          return json(400, 'redirect_uri must be a loopback literal')
        const code = codeId()
        codes.set(code, {
          redirectUri: q.redirect_uri,
          challenge: q.code_challenge_method === 'S256' ? (q.code_challenge ?? null) : null,
        })
        const location = new URL(q.redirect_uri)
        location.searchParams.set('code', code)
        location.searchParams.set('state', q.state ?? '')
        location.searchParams.set('scope', q.scope ?? '')
        return {status: 302, headers: {location: location.href}}
      }
      case 'POST /token': {
        const b = req.body
        if (b.client_id !== GOOGLE_CLIENT_ID || b.client_secret !== GOOGLE_CLIENT_SECRET)
          return oauthError(401, 'invalid_client', 'The OAuth client was not found.')
        if (b.grant_type === 'authorization_code') {
          const issued = codes.get(b.code)
          codes.delete(b.code)
          if (!issued) return oauthError(400, 'invalid_grant', 'Malformed auth code.')
          if (issued.redirectUri !== b.redirect_uri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request')
          if (issued.challenge && !pkceMatches(b.code_verifier, issued.challenge))
            return oauthError(400, 'invalid_grant', 'Invalid code verifier.')
          const tokens = issueTokens()
          return json(200, tokenBody(tokens.access_token, options.omitRefreshToken ? undefined : tokens.refresh_token))
        }
        if (b.grant_type === 'refresh_token') {
          refreshCount++
          const scripted = refreshes.next()
          if (scripted) return {delayMs: options.refreshDelayMs, ...scripted}
          if (!validRefresh.has(b.refresh_token))
            return {
              ...oauthError(400, 'invalid_grant', 'Token has been expired or revoked.'),
              delayMs: options.refreshDelayMs,
            }
          const access = accessId()
          validAccess.add(access)
          // Google normally sends no refresh_token on refresh.
          return {...json(200, tokenBody(access)), delayMs: options.refreshDelayMs}
        }
        return oauthError(400, 'unsupported_grant_type')
      }
      case 'GET /oauth2/v2/userinfo':
        if (!bearer(req.headers.authorization)) return unauthenticated
        return json(200, {id: '1234567890', email, verified_email: true, picture: 'https://example.com/p.png'})
      case 'POST /v1internal:loadCodeAssist': {
        if (!bearer(req.headers.authorization)) return unauthenticated
        if (assist.loadReply) return assist.loadReply
        const currentTier = assist.currentTier === undefined ? 'standard-tier' : assist.currentTier
        return json(200, {
          ...(currentTier
            ? {
                currentTier: {id: currentTier, name: currentTier, hasOnboardedPreviously: true},
                cloudaicompanionProject: project,
              }
            : {}),
          allowedTiers: assist.allowedTiers ?? [{id: 'standard-tier', isDefault: true}],
          ...(assist.ineligibleTiers ? {ineligibleTiers: assist.ineligibleTiers} : {}),
        })
      }
      case 'POST /v1internal:onboardUser': {
        if (!bearer(req.headers.authorization)) return unauthenticated
        const style = assist.onboarding ?? 'operation'
        if (style === 'immediate') return json(200, operationDone())
        if (style === 'repost') return json(200, ++onboardPolls >= 2 ? operationDone() : {done: false})
        return json(200, {name: 'operations/onboard-1', done: false})
      }
      case 'GET /v1internal/operations/onboard-1':
        if (!bearer(req.headers.authorization)) return unauthenticated
        return json(200, ++onboardPolls >= 2 ? operationDone() : {name: 'operations/onboard-1', done: false})
      default:
        return json(404, {error: {code: 404, message: `No route ${req.method} ${req.path}`, status: 'NOT_FOUND'}})
    }
  })

  const redirectFor = async (authUrl: string) => {
    const res = await request(authUrl)
    await res.body.dump()
    const location = res.headers.location
    if (res.statusCode !== 302 || typeof location !== 'string')
      throw new Error(`The fake refused the authorization request (${res.statusCode}).`)
    return location
  }
  const urls = {
    authUrl: `${server.url}/o/oauth2/v2/auth`,
    tokenUrl: `${server.url}/token`,
    userinfoUrl: `${server.url}/oauth2/v2/userinfo`,
  }
  return {
    ...server,
    ...urls,
    env: {
      AICLIENT_GOOGLE_AUTH_URL: urls.authUrl,
      AICLIENT_GOOGLE_TOKEN_URL: urls.tokenUrl,
      AICLIENT_GOOGLE_USERINFO_URL: urls.userinfoUrl,
      AICLIENT_GEMINI_BASE_URL: server.url,
    },
    async browse(authUrl, override = {}) {
      const redirect = new URL(await redirectFor(authUrl))
      if (override.state !== undefined) redirect.searchParams.set('state', override.state)
      if (override.error !== undefined) {
        redirect.searchParams.delete('code')
        redirect.searchParams.set('error', override.error)
      }
      const res = await request(redirect.href)
      return {status: res.statusCode, page: await res.body.text()}
    },
    redirectFor,
    enqueueRefreshes: (...items) => refreshes.push(...items),
    get refreshCount() {
      return refreshCount
    },
    issueTokens,
  }
}
