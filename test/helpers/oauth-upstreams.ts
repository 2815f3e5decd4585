import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {
  startCodeAssistFake,
  startKiroFake,
  startQwenPortalFake,
  type FakeUpstream,
  type KiroFakeOptions,
  type KiroFakeUpstream,
} from '../fakes/index.js'
import {
  startFakeGoogleOAuth,
  startFakeKiroAuthService,
  startFakeQwenOAuth,
  type FakeGoogleOAuth,
  type FakeKiroAuthService,
  type FakeQwenOAuth,
} from '../fakes/oauth/index.js'
import {tempDir} from './cli.js'

/** Accepts every token a fake token endpoint issued (they share a prefix) unless it was revoked here. */
export class IssuedTokens extends Set<string> {
  readonly revoked = new Set<string>()
  constructor(private readonly prefix: string) {
    super()
  }
  override has(token: string): boolean {
    return token.startsWith(this.prefix) && !this.revoked.has(token)
  }
}

/** The three OAuth upstreams with their token services, credential files for each, and their environment set. */
export interface OAuthUpstreams {
  dir: string
  qwenAuth: FakeQwenOAuth
  googleAuth: FakeGoogleOAuth
  kiroAuth: FakeKiroAuthService
  portal: FakeUpstream
  codeAssist: FakeUpstream
  kiro: KiroFakeUpstream
  qwenTokens: IssuedTokens
  googleTokens: IssuedTokens
  files: {qwen: string; gemini: string; kiro: string}
  /** A pool document with one instance of each OAuth type. */
  pool(): Record<string, unknown>
  /** Closes everything and puts the environment back. */
  close(): Promise<void>
}

/** Options of the fakes beyond the defaults, e.g. a Kiro that reports exact usage (`metadata`). */
export interface OAuthUpstreamOptions {
  kiro?: Partial<KiroFakeOptions>
}

export async function startOAuthUpstreams(options: OAuthUpstreamOptions = {}): Promise<OAuthUpstreams> {
  const env = {...process.env}
  const {dir, cleanup} = await tempDir()
  const qwenTokens = new IssuedTokens('qwen-at')
  const googleTokens = new IssuedTokens('ya29.fake')
  const portal = await startQwenPortalFake({
    name: 'qwen',
    tokens: qwenTokens,
    requireDashScopeHeaders: true,
    callToolsWhenOffered: true,
  })
  // Refreshed Qwen tokens name the portal as their resource_url, as the real token endpoint does.
  const qwenAuth = await startFakeQwenOAuth({resourceUrl: portal.url})
  const googleAuth = await startFakeGoogleOAuth()
  const kiroAuth = await startFakeKiroAuthService()
  Object.assign(process.env, qwenAuth.env, googleAuth.env, kiroAuth.env)
  const codeAssist = await startCodeAssistFake({
    name: 'gemini',
    tokens: googleTokens,
    callToolsWhenOffered: true,
    account: {currentTier: 'standard-tier', project: 'fake-project-123'},
  })
  const kiro = await startKiroFake({
    name: 'kiro',
    splitBytes: {seed: 7, max: 11},
    callToolsWhenOffered: true,
    ...options.kiro,
  })
  const files = {qwen: join(dir, 'qwen.json'), gemini: join(dir, 'gemini.json'), kiro: join(dir, 'kiro.json')}
  const hour = Date.now() + 3_600_000
  await writeFile(
    files.qwen,
    JSON.stringify({
      ...qwenAuth.issueTokens(),
      token_type: 'Bearer',
      resource_url: portal.url,
      expiry_date: hour,
      keep: 'me',
    }),
  )
  await writeFile(
    files.gemini,
    JSON.stringify({...googleAuth.issueTokens(), token_type: 'Bearer', scope: 's', expiry_date: hour}),
  )
  await writeFile(
    files.kiro,
    JSON.stringify({
      ...kiroAuth.issueTokens(),
      expiresAt: new Date(hour).toISOString(),
      authMethod: 'social',
      provider: 'Github',
      region: 'us-east-1',
    }),
  )
  const base = {isHealthy: true, usageCount: 0, errorCount: 0}
  return {
    dir,
    qwenAuth,
    googleAuth,
    kiroAuth,
    portal,
    codeAssist,
    kiro,
    qwenTokens,
    googleTokens,
    files,
    pool: () => ({
      'openai-qwen-oauth': [{...base, QWEN_OAUTH_CREDS_FILE_PATH: files.qwen, customName: 'qwen', uuid: 'q-uuid-0001'}],
      'gemini-cli-oauth': [
        {
          ...base,
          GEMINI_OAUTH_CREDS_FILE_PATH: files.gemini,
          PROJECT_ID: '',
          GEMINI_BASE_URL: codeAssist.url,
          customName: 'gemini',
          uuid: 'g-uuid-0001',
        },
      ],
      'claude-kiro-oauth': [
        {
          ...base,
          KIRO_OAUTH_CREDS_FILE_PATH: files.kiro,
          KIRO_BASE_URL: kiro.url,
          customName: 'kiro',
          uuid: 'k-uuid-0001',
        },
      ],
    }),
    close: async () => {
      process.env = env
      await Promise.all([qwenAuth, googleAuth, kiroAuth, portal, codeAssist, kiro].map((f) => f.close()))
      await cleanup()
    },
  }
}
