// Fake AWS SSO OIDC (Builder ID / IAM Identity Center device flow and refresh) and a fake Kiro auth service
// (social login with PKCE, code exchange, refresh, and CodeWhisperer ListProfiles). JSON bodies, camelCase as AWS.
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

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

export type OidcPoll = 'pending' | 'slow_down' | 'expired' | 'denied' | 'approve' | ScriptedReply

export interface FakeAwsSsoOidcOptions {
  /** Sent as `interval` (seconds); default 1 */
  interval?: number | null
  /** Device code lifetime in seconds; default 600 */
  expiresIn?: number
  tokenExpiresIn?: number
  refreshDelayMs?: number
}

export interface FakeAwsSsoOidc extends FakeOAuthServer {
  /** Environment that points aiclient at this fake (device flow and builder-id refresh) */
  readonly env: Record<string, string>
  enqueuePolls(...polls: OidcPoll[]): void
  enqueueRefreshes(...replies: ScriptedReply[]): void
  approve(): void
  deny(): void
  readonly refreshCount: number
  /** A registered client and tokens it accepts, for writing a credential file without a login */
  issueTokens(): {clientId: string; clientSecret: string; accessToken: string; refreshToken: string}
}

export async function startFakeAwsSsoOidc(options: FakeAwsSsoOidcOptions = {}): Promise<FakeAwsSsoOidc> {
  const clients = new Map<string, string>()
  const validRefresh = new Map<string, string>()
  const polls = new ReplyQueue<OidcPoll>()
  const refreshes = new ReplyQueue<ScriptedReply>()
  const clientId = idMaker('client')
  const accessId = idMaker('aoaFake')
  const refreshId = idMaker('aorFake')
  const deviceId = idMaker('device')
  let deviceCode: string | null = null
  let standing: 'pending' | 'approve' | 'denied' = 'pending'
  let refreshCount = 0

  const register = () => {
    const id = clientId()
    const secret = `secret-${id}`
    clients.set(id, secret)
    return {clientId: id, clientSecret: secret}
  }
  const issue = (forClient: string) => {
    const refreshToken = refreshId()
    validRefresh.set(refreshToken, forClient)
    return {accessToken: accessId(), refreshToken, expiresIn: options.tokenExpiresIn ?? 3600, tokenType: 'Bearer'}
  }
  const pollReply = (poll: OidcPoll, forClient: string): ScriptedReply => {
    if (typeof poll === 'object') return poll
    switch (poll) {
      case 'pending':
        return oauthError(400, 'authorization_pending', 'Authorization is still pending.')
      case 'slow_down':
        return oauthError(400, 'slow_down', 'Client is polling too quickly.')
      case 'expired':
        return oauthError(400, 'expired_token', 'Device code has expired.')
      case 'denied':
        return oauthError(400, 'access_denied', 'The user denied access.')
      case 'approve':
        return json(200, issue(forClient))
    }
  }

  const server = await startFakeOAuthServer((req) => {
    const b = req.body
    if (req.method !== 'POST') return json(405, {error: 'method_not_allowed'})
    const knownClient = typeof b.clientId === 'string' && clients.get(b.clientId) === b.clientSecret
    switch (req.path) {
      case '/client/register':
        if (b.clientType !== 'public' || !Array.isArray(b.scopes))
          return oauthError(400, 'invalid_request', 'clientType and scopes are required.')
        return json(200, {...register(), clientIdIssuedAt: 1767225600, clientSecretExpiresAt: 1775001600})
      case '/device_authorization': {
        if (!knownClient) return oauthError(401, 'invalid_client', 'Unknown client.')
        if (typeof b.startUrl !== 'string') return oauthError(400, 'invalid_request', 'startUrl is required.')
        deviceCode = deviceId()
        const userCode = `ABCD-${deviceCode.slice(-4).toUpperCase()}`
        return json(200, {
          deviceCode,
          userCode,
          verificationUri: `${server.url}/device`,
          verificationUriComplete: `${server.url}/device?user_code=${userCode}`,
          expiresIn: options.expiresIn ?? 600,
          ...(options.interval === null ? {} : {interval: options.interval ?? 1}),
        })
      }
      case '/token': {
        if (!knownClient) return oauthError(401, 'invalid_client', 'Unknown client.')
        if (b.grantType === 'refresh_token') {
          refreshCount++
          const scripted = refreshes.next()
          if (scripted) return {delayMs: options.refreshDelayMs, ...scripted}
          if (validRefresh.get(b.refreshToken) !== b.clientId)
            return {
              ...oauthError(400, 'invalid_grant', 'Invalid refresh token provided.'),
              delayMs: options.refreshDelayMs,
            }
          // SSO OIDC rotates refresh tokens.
          validRefresh.delete(b.refreshToken)
          return {...json(200, issue(b.clientId)), delayMs: options.refreshDelayMs}
        }
        if (b.grantType !== DEVICE_GRANT) return oauthError(400, 'unsupported_grant_type')
        if (b.deviceCode !== deviceCode) return oauthError(400, 'invalid_grant', 'Unknown device code.')
        return pollReply(polls.next() ?? standing, b.clientId)
      }
      default:
        return json(404, {error: 'not_found'})
    }
  })

  return {
    ...server,
    env: {AICLIENT_AWS_SSO_OIDC_URL: server.url},
    enqueuePolls: (...items) => polls.push(...items),
    enqueueRefreshes: (...items) => refreshes.push(...items),
    approve: () => {
      standing = 'approve'
    },
    deny: () => {
      standing = 'denied'
    },
    get refreshCount() {
      return refreshCount
    },
    issueTokens() {
      const client = register()
      const {accessToken, refreshToken} = issue(client.clientId)
      return {...client, accessToken, refreshToken}
    },
  }
}

export interface FakeKiroAuthServiceOptions {
  profileArn?: string
  tokenExpiresIn?: number
  refreshDelayMs?: number
  /** Replaces the ListProfiles answer */
  profilesReply?: ScriptedReply
}

export interface FakeKiroAuthService extends FakeOAuthServer {
  /** Full URL of the fake ListProfiles endpoint */
  readonly profileUrl: string
  /** Environment that points aiclient at this fake (social login, refresh, profile lookup) */
  readonly env: Record<string, string>
  /** Plays the browser up to the `kiro://` redirect it cannot follow, and returns that URL (what the user pastes) */
  redirectFor(loginUrl: string): Promise<string>
  enqueueRefreshes(...replies: ScriptedReply[]): void
  readonly refreshCount: number
  issueTokens(): {accessToken: string; refreshToken: string}
}

export async function startFakeKiroAuthService(options: FakeKiroAuthServiceOptions = {}): Promise<FakeKiroAuthService> {
  const codes = new Map<string, {challenge: string; redirectUri: string}>()
  const validRefresh = new Set<string>()
  const refreshes = new ReplyQueue<ScriptedReply>()
  const codeId = idMaker('kiro-code')
  const accessId = idMaker('aoaSocial')
  const refreshId = idMaker('aorSocial')
  const profileArn = options.profileArn ?? 'arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEPROFILE'
  let refreshCount = 0

  const issueTokens = () => {
    const refreshToken = refreshId()
    validRefresh.add(refreshToken)
    return {accessToken: accessId(), refreshToken}
  }

  const server = await startFakeOAuthServer((req) => {
    const b = req.body
    switch (`${req.method} ${req.path}`) {
      case 'GET /login': {
        const q = req.query
        if (q.idp !== 'Google' && q.idp !== 'Github') return json(400, {message: `Unknown idp ${q.idp}`})
        if (q.code_challenge_method !== 'S256' || !q.code_challenge || !q.redirect_uri || !q.state)
          return json(400, {message: 'PKCE, state and redirect_uri are required'})
        const code = codeId()
        codes.set(code, {challenge: q.code_challenge, redirectUri: q.redirect_uri})
        const location = new URL(q.redirect_uri)
        location.searchParams.set('code', code)
        location.searchParams.set('state', q.state)
        return {status: 302, headers: {location: location.href}}
      }
      case 'POST /oauth/token': {
        const issued = codes.get(b.code)
        codes.delete(b.code)
        if (!issued) return json(400, {error: 'invalid_grant', message: 'Invalid authorization code'})
        if (issued.redirectUri !== b.redirect_uri)
          return json(400, {error: 'invalid_grant', message: 'redirect_uri mismatch'})
        if (!pkceMatches(b.code_verifier, issued.challenge))
          return json(400, {error: 'invalid_grant', message: 'code_verifier mismatch'})
        return json(200, {...issueTokens(), profileArn, expiresIn: options.tokenExpiresIn ?? 3600})
      }
      case 'POST /refreshToken': {
        refreshCount++
        const scripted = refreshes.next()
        if (scripted) return {delayMs: options.refreshDelayMs, ...scripted}
        if (!validRefresh.has(b.refreshToken))
          return {
            ...json(401, {error: 'invalid_grant', message: 'Invalid refresh token'}),
            delayMs: options.refreshDelayMs,
          }
        // The social refresh answers without a new refresh token.
        return {
          ...json(200, {accessToken: accessId(), profileArn, expiresIn: options.tokenExpiresIn ?? 3600}),
          delayMs: options.refreshDelayMs,
        }
      }
      case 'POST /ListProfiles':
        if (req.headers['x-amz-target'] !== 'AmazonCodeWhispererService.ListProfiles')
          return json(400, {message: 'Missing x-amz-target'})
        if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) return json(403, {message: 'Missing token'})
        return options.profilesReply ?? json(200, {profiles: [{arn: profileArn, profileName: 'fake'}]})
      default:
        return json(404, {message: `No route ${req.method} ${req.path}`})
    }
  })

  const profileUrl = `${server.url}/ListProfiles`
  return {
    ...server,
    profileUrl,
    env: {AICLIENT_KIRO_AUTH_SERVICE_URL: server.url, AICLIENT_KIRO_PROFILE_URL: profileUrl},
    async redirectFor(loginUrl) {
      const res = await request(loginUrl)
      await res.body.dump()
      const location = res.headers.location
      if (res.statusCode !== 302 || typeof location !== 'string')
        throw new Error(`The fake refused the login request (${res.statusCode}).`)
      return location
    },
    enqueueRefreshes: (...items) => refreshes.push(...items),
    get refreshCount() {
      return refreshCount
    },
    issueTokens,
  }
}
