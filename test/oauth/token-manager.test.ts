import {execFile} from 'node:child_process'
import {readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {resolveEndpoints} from '../../src/core/oauth/endpoints.js'
import {TokenError} from '../../src/core/oauth/errors.js'
import {geminiCredentialSpec} from '../../src/core/oauth/gemini.js'
import {kiroCredentialSpec} from '../../src/core/oauth/kiro.js'
import {qwenCredentialSpec} from '../../src/core/oauth/qwen.js'
import {
  TokenManager,
  TokenManagerRegistry,
  type AccessToken,
  type CredentialSpec,
  type TokenManagerOptions,
} from '../../src/core/oauth/token-manager.js'
import {
  startFakeAwsSsoOidc,
  startFakeGoogleOAuth,
  startFakeKiroAuthService,
  startFakeQwenOAuth,
  type FakeOAuthServer,
} from '../fakes/oauth/index.js'
import {ROOT, tempDir} from '../helpers/cli.js'

const run = promisify(execFile)
let dir: string
let cleanup: () => Promise<void>
const fakes: FakeOAuthServer[] = []

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir('aiclient-tokens-'))
})
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()))
  await cleanup()
})

async function track<T extends FakeOAuthServer>(fake: Promise<T>): Promise<T> {
  const started = await fake
  fakes.push(started)
  return started
}

async function writeJson(name: string, content: unknown): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, JSON.stringify(content, null, 2), {mode: 0o600})
  return file
}

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8'))

function manager<T extends AccessToken>(
  spec: CredentialSpec<T>,
  file: string,
  env: Record<string, string>,
  options: TokenManagerOptions = {},
) {
  return new TokenManager(spec, file, {endpoints: resolveEndpoints(env), ...options})
}

describe('Qwen token manager', () => {
  async function setup(expiresInMs: number, fakeOptions: Parameters<typeof startFakeQwenOAuth>[0] = {}) {
    const fake = await track(startFakeQwenOAuth(fakeOptions))
    const tokens = fake.issueTokens()
    const file = await writeJson('oauth_creds.json', {
      ...tokens,
      token_type: 'Bearer',
      resource_url: 'portal.qwen.ai',
      expiry_date: Date.now() + expiresInMs,
      qwen_code_extra: {keep: true},
    })
    return {fake, tokens, file}
  }

  it('serves a fresh token without refreshing', async () => {
    const {fake, tokens, file} = await setup(60_000)
    const token = await manager(qwenCredentialSpec, file, fake.env).getAccessToken()
    expect(token).toMatchObject({token: tokens.access_token, resourceUrl: 'portal.qwen.ai', tokenType: 'Bearer'})
    expect(fake.refreshCount).toBe(0)
  })

  it('refreshes inside the 30 s lead, keeping unknown fields and the old refresh token, mode 0600', async () => {
    const {fake, tokens, file} = await setup(20_000)
    const before = Date.now()
    const token = await manager(qwenCredentialSpec, file, fake.env).getAccessToken()
    expect(token.token).not.toBe(tokens.access_token)
    const saved = await readJson(file)
    expect(saved).toEqual({
      access_token: token.token,
      refresh_token: tokens.refresh_token,
      token_type: 'Bearer',
      resource_url: 'portal.qwen.ai',
      expiry_date: expect.any(Number),
      qwen_code_extra: {keep: true},
    })
    expect(saved.expiry_date).toBeGreaterThanOrEqual(before + 21_600_000)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const refresh = fake.calls('/api/v1/oauth2/token')[0]!
    expect(refresh.body).toEqual({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: 'f0304373b74a44d2b584a3fb70ca9e56',
    })
  })

  it('sends one refresh for many concurrent callers', async () => {
    const {fake, file} = await setup(-1000, {refreshDelayMs: 100})
    const m = manager(qwenCredentialSpec, file, fake.env)
    const tokens = await Promise.all(Array.from({length: 5}, () => m.getAccessToken()))
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1)
    expect(fake.refreshCount).toBe(1)
  })

  it('sends one refresh for two processes refreshing the same file at once, through the qwen-code lock file', async () => {
    const {fake, file} = await setup(-1000, {refreshDelayMs: 300})
    const worker = join(ROOT, 'test', 'oauth', 'helpers', 'refresh-worker.mjs')
    const startAt = String(Date.now() + 800)
    const spawnWorker = () =>
      run(process.execPath, [worker, file, startAt], {
        cwd: ROOT,
        env: {PATH: process.env.PATH, HOME: dir, ...fake.env},
        timeout: 15_000,
      })
    const results = await Promise.all([spawnWorker(), spawnWorker()])
    const tokens = results.map((r) => JSON.parse(r.stdout).token as string)
    expect(tokens[0]).toBe(tokens[1])
    expect(fake.refreshCount).toBe(1)
    expect((await readJson(file)).access_token).toBe(tokens[0])
    await expect(stat(join(dir, 'oauth_creds.lock'))).rejects.toMatchObject({code: 'ENOENT'})
  }, 20_000)

  it('marks a rejected refresh as relogin_needed and never deletes the file', async () => {
    const {fake, tokens, file} = await setup(-1000)
    fake.revoke(tokens.refresh_token)
    const original = await readFile(file, 'utf8')
    const m = manager(qwenCredentialSpec, file, fake.env)
    const error = await m.getAccessToken().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TokenError)
    expect(error).toMatchObject({
      kind: 'relogin_needed',
      message: `re-login needed: aiclient auth login qwen --output ${file}`,
      detail: expect.stringMatching(/invalid_grant/),
    })
    expect(await readFile(file, 'utf8')).toBe(original)
    expect(m.status()).toMatchObject({state: 'relogin_needed', lastError: {kind: 'relogin_needed'}})
    // No second request while the file is unchanged…
    await expect(m.getAccessToken()).rejects.toMatchObject({kind: 'relogin_needed'})
    expect(fake.refreshCount).toBe(1)
    // …and a new login (the file changes) heals it.
    const fresh = fake.issueTokens()
    await writeFile(file, JSON.stringify({...fresh, token_type: 'Bearer', expiry_date: Date.now() + 3_600_000}))
    expect((await manager(qwenCredentialSpec, file, fake.env).getAccessToken()).token).toBe(fresh.access_token)
    expect(
      await new TokenManager(qwenCredentialSpec, file, {
        endpoints: resolveEndpoints(fake.env),
        recheckMs: 0,
      }).getAccessToken(),
    ).toMatchObject({token: fresh.access_token})
  })

  it('heals the same manager once the file changes', async () => {
    const {fake, tokens, file} = await setup(-1000)
    fake.revoke(tokens.refresh_token)
    const m = manager(qwenCredentialSpec, file, fake.env, {recheckMs: 0})
    await expect(m.getAccessToken()).rejects.toMatchObject({kind: 'relogin_needed'})
    const fresh = fake.issueTokens()
    await writeFile(
      file,
      JSON.stringify({...fresh, token_type: 'Bearer', expiry_date: Date.now() + 3_600_000, pad: 'changed size'}),
    )
    expect((await m.getAccessToken()).token).toBe(fresh.access_token)
    expect(m.status()).toMatchObject({state: 'valid', lastError: null})
  })

  it('keeps serving a still-valid token when the token server is down, and reports it', async () => {
    const {fake, tokens, file} = await setup(10_000)
    fake.enqueueRefreshes({status: 503, body: 'down'})
    const m = manager(qwenCredentialSpec, file, fake.env)
    expect((await m.getAccessToken()).token).toBe(tokens.access_token)
    expect(m.status()).toMatchObject({
      state: 'refresh_due',
      lastError: {kind: 'refresh_failed', message: expect.stringMatching(/503/)},
    })
    // Within the back-off no new attempt is made.
    await m.getAccessToken()
    expect(fake.refreshCount).toBe(1)
  })

  it('fails with refresh_failed when the token has expired and the server is down', async () => {
    const {fake, file} = await setup(-1000)
    fake.enqueueRefreshes({status: 502, body: 'bad gateway'})
    await expect(manager(qwenCredentialSpec, file, fake.env).getAccessToken()).rejects.toMatchObject({
      kind: 'refresh_failed',
    })
  })

  it('forceRefresh renews a fresh token, unless another process already replaced it', async () => {
    const {fake, tokens, file} = await setup(3_600_000)
    const m = manager(qwenCredentialSpec, file, fake.env)
    expect((await m.getAccessToken()).token).toBe(tokens.access_token)
    const forced = await m.forceRefresh()
    expect(forced.token).not.toBe(tokens.access_token)
    expect(fake.refreshCount).toBe(1)
    const elsewhere = fake.issueTokens()
    await writeFile(file, JSON.stringify({...elsewhere, token_type: 'Bearer', expiry_date: Date.now() + 3_600_000}))
    expect((await m.forceRefresh()).token).toBe(elsewhere.access_token)
    expect(fake.refreshCount).toBe(1)
    // A manager that handed out nothing yet refreshes, as does one told which token failed.
    expect((await manager(qwenCredentialSpec, file, fake.env).forceRefresh()).token).not.toBe(elsewhere.access_token)
    const current = (await readJson(file)).access_token
    expect((await manager(qwenCredentialSpec, file, fake.env).forceRefresh(current)).token).not.toBe(current)
    expect(fake.refreshCount).toBe(3)
  })

  it('honours a configured lead time', async () => {
    const {fake, file} = await setup(120_000)
    await manager(qwenCredentialSpec, file, fake.env, {leadMs: 180_000}).getAccessToken()
    expect(fake.refreshCount).toBe(1)
  })

  it('needs a re-login when the file is missing', async () => {
    const fake = await track(startFakeQwenOAuth())
    const m = manager(qwenCredentialSpec, join(dir, 'missing.json'), fake.env)
    await expect(m.getAccessToken()).rejects.toMatchObject({
      kind: 'relogin_needed',
      detail: expect.stringMatching(/does not exist/),
    })
  })
})

describe('Gemini token manager', () => {
  it('refreshes within 5 minutes, keeps the refresh token Google omits and unknown fields', async () => {
    const fake = await track(startFakeGoogleOAuth())
    const tokens = fake.issueTokens()
    const file = await writeJson('oauth_creds.json', {
      ...tokens,
      scope: 'x',
      token_type: 'Bearer',
      id_token: 'old',
      expiry_date: Date.now() + 4 * 60_000,
      extra: 1,
    })
    const token = await manager(geminiCredentialSpec, file, fake.env).getAccessToken()
    expect(token.token).not.toBe(tokens.access_token)
    expect(await readJson(file)).toEqual({
      access_token: token.token,
      refresh_token: tokens.refresh_token,
      scope: expect.stringContaining('cloud-platform'),
      token_type: 'Bearer',
      id_token: 'eyJ.fake.id',
      expiry_date: expect.any(Number),
      extra: 1,
    })
    expect(fake.calls('/token')[0]!.body).toEqual({
      client_id: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
      client_secret: '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',
      refresh_token: tokens.refresh_token,
      grant_type: 'refresh_token',
    })
  })

  it('leaves a token with more than 5 minutes alone, and reports invalid_grant as re-login', async () => {
    const fake = await track(startFakeGoogleOAuth())
    const file = await writeJson('g.json', {
      access_token: 'a',
      refresh_token: 'revoked',
      expiry_date: Date.now() + 6 * 60_000,
    })
    expect((await manager(geminiCredentialSpec, file, fake.env).getAccessToken()).token).toBe('a')
    await writeFile(file, JSON.stringify({access_token: 'a', refresh_token: 'revoked', expiry_date: Date.now() - 1}))
    await expect(manager(geminiCredentialSpec, file, fake.env).getAccessToken()).rejects.toMatchObject({
      kind: 'relogin_needed',
      message: `re-login needed: aiclient auth login gemini --output ${file}`,
      detail: expect.stringMatching(/Token has been expired or revoked/),
    })
  })
})

describe('Kiro token manager', () => {
  it('refreshes social logins at the auth service within 10 minutes, keeping the refresh token', async () => {
    const auth = await track(startFakeKiroAuthService())
    const tokens = auth.issueTokens()
    const file = await writeJson('kiro.json', {
      ...tokens,
      expiresAt: new Date(Date.now() + 9 * 60_000).toISOString(),
      authMethod: 'social',
      provider: 'Google',
      region: 'us-east-1',
      machineId: 'keep',
    })
    const token = await manager(kiroCredentialSpec, file, auth.env).getAccessToken()
    expect(token).toMatchObject({
      authMethod: 'social',
      region: 'us-east-1',
      profileArn: expect.stringContaining('FAKEPROFILE'),
    })
    expect(auth.calls('/refreshToken')[0]!.body).toEqual({refreshToken: tokens.refreshToken})
    expect(await readJson(file)).toEqual({
      accessToken: token.token,
      refreshToken: tokens.refreshToken,
      profileArn: expect.stringContaining('FAKEPROFILE'),
      expiresAt: expect.stringMatching(/Z$/),
      authMethod: 'social',
      provider: 'Google',
      region: 'us-east-1',
      machineId: 'keep',
    })
  })

  it('refreshes builder-id logins at SSO OIDC, with the client from a Kiro IDE clientIdHash file', async () => {
    const oidc = await track(startFakeAwsSsoOidc())
    const issued = oidc.issueTokens()
    await writeJson('abc123.json', {
      clientId: issued.clientId,
      clientSecret: issued.clientSecret,
      expiresAt: '2099-01-01T00:00:00Z',
    })
    const file = await writeJson('kiro-auth-token.json', {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
      authMethod: 'IdC',
      clientIdHash: 'abc123',
      region: 'us-east-1',
    })
    const token = await manager(kiroCredentialSpec, file, oidc.env).getAccessToken()
    expect(token.authMethod).toBe('idc')
    expect(oidc.calls('/token')[0]!.body).toEqual({
      clientId: issued.clientId,
      clientSecret: issued.clientSecret,
      refreshToken: issued.refreshToken,
      grantType: 'refresh_token',
    })
    const saved = await readJson(file)
    expect(saved.refreshToken).not.toBe(issued.refreshToken)
    expect(saved).toMatchObject({clientIdHash: 'abc123', authMethod: 'IdC'})
  })
})

describe('TokenManagerRegistry', () => {
  it('gives one manager per file and refuses one file for two providers', () => {
    const registry = new TokenManagerRegistry()
    const a = registry.get(qwenCredentialSpec, join(dir, 'x.json'))
    expect(registry.get(qwenCredentialSpec, join(dir, '.', 'x.json'))).toBe(a)
    expect(() => registry.get(geminiCredentialSpec, join(dir, 'x.json'))).toThrow(/both as a qwen and as a gemini/)
  })
})
