import {afterEach, describe, expect, it} from 'vitest'
import {BUILDER_ID_START_URL, loginKiroBuilderId, startKiroSocialLogin} from '../../src/core/oauth/kiro.js'
import type {LoginEvent} from '../../src/core/oauth/flow.js'
import {pkceChallenge} from '../../src/core/oauth/pkce.js'
import {
  startFakeAwsSsoOidc,
  startFakeKiroAuthService,
  type FakeAwsSsoOidc,
  type FakeKiroAuthService,
} from '../fakes/oauth/index.js'
import {fakeClock} from './helpers/clock.js'

let oidc: FakeAwsSsoOidc | undefined
let auth: FakeKiroAuthService | undefined
afterEach(async () => {
  await oidc?.close()
  await auth?.close()
  oidc = auth = undefined
})

describe('Kiro builder-id (AWS SSO OIDC device flow)', () => {
  async function login(interval: number | null, ...polls: Parameters<FakeAwsSsoOidc['enqueuePolls']>) {
    oidc = await startFakeAwsSsoOidc({interval})
    auth = await startFakeKiroAuthService()
    oidc.enqueuePolls(...polls)
    const clock = fakeClock()
    const events: LoginEvent[] = []
    const result = loginKiroBuilderId({
      endpoints: {AWS_SSO_OIDC_URL: oidc.url, KIRO_PROFILE_URL: auth.profileUrl},
      region: 'us-east-1',
      startUrl: BUILDER_ID_START_URL,
      sleep: clock.sleep,
      now: clock.now,
      onEvent: (e) => events.push(e),
    })
    return {result, clock, events}
  }

  it("registers, polls at the server's interval, adds 5 s on slow_down, and writes the AIClient-2-API shape", async () => {
    const {result, clock, events} = await login(1, 'pending', 'slow_down', 'pending', 'approve')
    const login_ = await result
    expect(clock.waits).toEqual([1000, 6000, 6000])
    expect(oidc!.calls('/client/register')[0]!.body).toEqual({
      clientName: 'Kiro IDE',
      clientType: 'public',
      scopes: ['codewhisperer:completions', 'codewhisperer:analysis', 'codewhisperer:conversations'],
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    })
    expect(oidc!.calls('/device_authorization')[0]!.body).toMatchObject({startUrl: 'https://view.awsapps.com/start'})
    expect(oidc!.calls('/token')[0]!.body).toMatchObject({
      grantType: 'urn:ietf:params:oauth:grant-type:device_code',
      deviceCode: expect.any(String),
    })
    expect(events.find((e) => e.type === 'device_code')).toMatchObject({
      userCode: expect.stringMatching(/^ABCD-/),
      url: expect.stringContaining('user_code='),
    })
    expect(login_.credentials).toEqual({
      accessToken: expect.stringMatching(/^aoaFake/),
      refreshToken: expect.stringMatching(/^aorFake/),
      expiresAt: new Date(clock.now() + 3_600_000).toISOString(),
      authMethod: 'builder-id',
      clientId: expect.any(String),
      clientSecret: expect.any(String),
      region: 'us-east-1',
      idcRegion: 'us-east-1',
      profileArn: 'arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEPROFILE',
    })
    expect(auth!.calls('/ListProfiles')[0]!.headers['x-amz-target']).toBe('AmazonCodeWhispererService.ListProfiles')
  })

  it('defaults to 5 s when the server sends no interval', async () => {
    const {result, clock} = await login(null, 'pending', 'approve')
    await result
    expect(clock.waits).toEqual([5000])
  })

  it.each([
    ['expired', 'oauth_expired', /expired_token/],
    ['denied', 'oauth_denied', /access_denied/],
  ] as const)('stops on %s', async (poll, code, text) => {
    const {result} = await login(1, 'pending', poll)
    await expect(result).rejects.toMatchObject({code, message: expect.stringMatching(text)})
  })
})

describe('Kiro social login (paste-back)', () => {
  it('exchanges the pasted kiro:// redirect with the PKCE verifier and the same redirect_uri', async () => {
    auth = await startFakeKiroAuthService()
    const events: LoginEvent[] = []
    const login = await startKiroSocialLogin({
      endpoints: {KIRO_AUTH_SERVICE_URL: auth.url},
      idp: 'Github',
      region: 'us-east-1',
      onEvent: (e) => events.push(e),
    })
    const loginUrl = new URL(login.authUrl)
    expect(Object.fromEntries(loginUrl.searchParams)).toMatchObject({
      idp: 'Github',
      redirect_uri: 'kiro://kiro.kiroAgent/authenticate-success',
      code_challenge_method: 'S256',
      prompt: 'select_account',
    })
    expect(events[0]).toMatchObject({type: 'authorize', callback: 'paste'})
    const pasted = await auth.redirectFor(login.authUrl)
    expect(pasted).toMatch(/^kiro:\/\/kiro\.kiroAgent\/authenticate-success\?code=/)

    const forged = new URL(pasted)
    forged.searchParams.set('state', 'nope')
    expect(login.submitRedirectUrl(forged.href)).toMatchObject({ok: false, final: false})
    expect(events).toContainEqual({type: 'callback_rejected', message: expect.stringMatching(/state mismatch/)})
    expect(login.submitRedirectUrl(`  ${pasted}\n`)).toMatchObject({ok: true})

    const result = await login.result
    const exchange = auth.calls('/oauth/token')[0]!
    expect(exchange.body.redirect_uri).toBe('kiro://kiro.kiroAgent/authenticate-success')
    expect(pkceChallenge(exchange.body.code_verifier)).toBe(loginUrl.searchParams.get('code_challenge'))
    expect(result.credentials).toEqual({
      accessToken: expect.stringMatching(/^aoaSocial/),
      refreshToken: expect.stringMatching(/^aorSocial/),
      profileArn: 'arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEPROFILE',
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      authMethod: 'social',
      provider: 'Github',
      socialProvider: 'Github',
      region: 'us-east-1',
    })
    expect(result.account).toBe('arn:aws:codewhisperer:us-east-1:123456789012:profile/FAKEPROFILE')
  })

  it('ends when the pasted redirect carries an error', async () => {
    auth = await startFakeKiroAuthService()
    const login = await startKiroSocialLogin({
      endpoints: {KIRO_AUTH_SERVICE_URL: auth.url},
      idp: 'Google',
      region: 'us-east-1',
    })
    const state = new URL(login.authUrl).searchParams.get('state')!
    login.submitRedirectUrl(`kiro://kiro.kiroAgent/authenticate-success?error=access_denied&state=${state}`)
    await expect(login.result).rejects.toMatchObject({code: 'oauth_denied'})
  })
})
