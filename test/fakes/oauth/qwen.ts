// A fake Qwen OAuth server (chat.qwen.ai): device authorization with PKCE and the token endpoint (device-code
// polls and refreshes), answering the way qwen-code expects, scriptable through pending/slow_down/expired/denied.
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

export const QWEN_DEVICE_PATH = '/api/v1/oauth2/device/code'
export const QWEN_TOKEN_PATH = '/api/v1/oauth2/token'

/** A poll answer: one of the RFC 8628 outcomes as Qwen sends them, `approve` (tokens), or any raw reply. */
export type QwenPoll = 'pending' | 'slow_down' | 'expired' | 'denied' | 'approve' | ScriptedReply

export interface FakeQwenOAuthOptions {
  /** Replaces the device-code answer, e.g. a 403 for an account without access */
  deviceReply?: ScriptedReply
  /** Device code lifetime in seconds; default 1800 */
  expiresIn?: number
  /** Sent as `interval` when set (qwen-code's server sends none) */
  interval?: number
  /** Access-token lifetime in seconds; default 21600 */
  tokenExpiresIn?: number
  /** Default 'portal.qwen.ai'; null sends none */
  resourceUrl?: string | null
  /** What a refresh answers about the refresh token: omit it (default), repeat it, or rotate it */
  refreshTokenOnRefresh?: 'none' | 'same' | 'new'
  /** Delay of every refresh answer, to make concurrent refreshers overlap */
  refreshDelayMs?: number
}

export interface FakeQwenOAuth extends FakeOAuthServer {
  /** Environment that points aiclient at this fake */
  readonly env: Record<string, string>
  /** Answers for the next polls, in order; when they run out polls answer `pending` until approve()/deny() */
  enqueuePolls(...polls: QwenPoll[]): void
  /** Answers for the next refreshes, in order, before the default behaviour */
  enqueueRefreshes(...replies: ScriptedReply[]): void
  approve(): void
  deny(): void
  /** The code_challenge of the last device-code request */
  readonly challenge: string | null
  /** Per device-code poll: did code_verifier hash to the challenge? */
  readonly verifierMatches: boolean[]
  /** Refresh requests received */
  readonly refreshCount: number
  /** Tokens this fake accepts, for writing a credential file without a login */
  issueTokens(): {access_token: string; refresh_token: string}
  revoke(refreshToken: string): void
}

export async function startFakeQwenOAuth(options: FakeQwenOAuthOptions = {}): Promise<FakeQwenOAuth> {
  const polls = new ReplyQueue<QwenPoll>()
  const refreshes = new ReplyQueue<ScriptedReply>()
  const validRefresh = new Set<string>()
  const accessId = idMaker('qwen-at')
  const refreshId = idMaker('qwen-rt')
  const deviceId = idMaker('qwen-dc')
  let standing: 'pending' | 'approve' | 'denied' = 'pending'
  let challenge: string | null = null
  let deviceCode: string | null = null
  let refreshCount = 0
  const verifierMatches: boolean[] = []
  const resourceUrl = options.resourceUrl === undefined ? 'portal.qwen.ai' : options.resourceUrl

  const issueTokens = () => {
    const refresh_token = refreshId()
    validRefresh.add(refresh_token)
    return {access_token: accessId(), refresh_token}
  }
  const tokenBody = (tokens: Record<string, string>) => ({
    ...tokens,
    token_type: 'Bearer',
    expires_in: options.tokenExpiresIn ?? 21_600,
    scope: 'openid profile email model.completion',
    ...(resourceUrl === null ? {} : {resource_url: resourceUrl}),
  })
  const pollReply = (poll: QwenPoll): ScriptedReply => {
    if (typeof poll === 'object') return poll
    switch (poll) {
      case 'pending':
        return oauthError(400, 'authorization_pending', 'The authorization request is still pending.')
      case 'slow_down':
        return oauthError(429, 'slow_down', 'Polling too frequently.')
      case 'expired':
        return oauthError(400, 'expired_token', 'The device code has expired.')
      case 'denied':
        return oauthError(400, 'access_denied', 'The user denied the authorization request.')
      case 'approve':
        return json(200, tokenBody(issueTokens()))
    }
  }

  const server = await startFakeOAuthServer((req) => {
    if (req.method !== 'POST') return json(405, {error: 'method_not_allowed'})
    if (req.path === QWEN_DEVICE_PATH) {
      if (options.deviceReply) return options.deviceReply
      if (req.body.code_challenge_method !== 'S256' || !req.body.code_challenge)
        return oauthError(400, 'invalid_request', 'PKCE S256 is required.')
      challenge = req.body.code_challenge
      deviceCode = deviceId()
      const userCode = `QW${deviceCode.slice(-4).toUpperCase()}`
      return json(200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: `${server.url}/authorize`,
        verification_uri_complete: `${server.url}/authorize?user_code=${userCode}&client=qwen-code`,
        expires_in: options.expiresIn ?? 1800,
        ...(options.interval === undefined ? {} : {interval: options.interval}),
      })
    }
    if (req.path !== QWEN_TOKEN_PATH) return json(404, {error: 'not_found'})
    if (req.body.grant_type === 'refresh_token') {
      refreshCount++
      const scripted = refreshes.next()
      if (scripted) return {delayMs: options.refreshDelayMs, ...scripted}
      const old = String(req.body.refresh_token ?? '')
      if (!validRefresh.has(old))
        return {
          ...oauthError(400, 'invalid_grant', 'Refresh token expired or revoked.'),
          delayMs: options.refreshDelayMs,
        }
      const mode = options.refreshTokenOnRefresh ?? 'none'
      const tokens: Record<string, string> = {access_token: accessId()}
      if (mode === 'same') tokens.refresh_token = old
      if (mode === 'new') {
        validRefresh.delete(old)
        tokens.refresh_token = refreshId()
        validRefresh.add(tokens.refresh_token)
      }
      return {...json(200, tokenBody(tokens)), delayMs: options.refreshDelayMs}
    }
    if (req.body.grant_type !== 'urn:ietf:params:oauth:grant-type:device_code')
      return oauthError(400, 'unsupported_grant_type')
    const matches = pkceMatches(req.body.code_verifier, challenge)
    verifierMatches.push(matches)
    if (req.body.device_code !== deviceCode) return oauthError(400, 'invalid_grant', 'Unknown device code.')
    if (!matches) return oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge.')
    return pollReply(polls.next() ?? standing)
  })

  return {
    ...server,
    env: {AICLIENT_QWEN_OAUTH_BASE_URL: server.url},
    enqueuePolls: (...items) => polls.push(...items),
    enqueueRefreshes: (...items) => refreshes.push(...items),
    approve: () => {
      standing = 'approve'
    },
    deny: () => {
      standing = 'denied'
    },
    get challenge() {
      return challenge
    },
    verifierMatches,
    get refreshCount() {
      return refreshCount
    },
    issueTokens,
    revoke: (token) => validRefresh.delete(token),
  }
}
