import {connect} from 'node:net'
import {networkInterfaces} from 'node:os'
import {request} from 'undici'
import {afterEach, describe, expect, it} from 'vitest'
import {discoverGeminiProject} from '../../src/core/oauth/gemini-project.js'
import {startGeminiLogin, type GeminiLoginOptions} from '../../src/core/oauth/gemini.js'
import type {LoginEvent} from '../../src/core/oauth/flow.js'
import {startFakeGoogleOAuth, type FakeGoogleOAuth, type FakeGoogleOAuthOptions} from '../fakes/oauth/index.js'
import {fakeClock} from './helpers/clock.js'

let fake: FakeGoogleOAuth | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function start(fakeOptions: FakeGoogleOAuthOptions = {}, options: Partial<GeminiLoginOptions> = {}) {
  fake = await startFakeGoogleOAuth(fakeOptions)
  const events: LoginEvent[] = []
  const endpoints = {
    GOOGLE_AUTH_URL: fake.authUrl,
    GOOGLE_TOKEN_URL: fake.tokenUrl,
    GOOGLE_USERINFO_URL: fake.userinfoUrl,
  }
  const login = await startGeminiLogin({endpoints, onEvent: (e) => events.push(e), ...options})
  return {login, events, fake}
}

function refused(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({port, host})
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

describe('Gemini loopback login', () => {
  it('completes when the browser comes back with the code, then closes the listener', async () => {
    const {login, events} = await start()
    const auth = new URL(login.authUrl)
    const redirectUri = auth.searchParams.get('redirect_uri')!
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2callback$/)
    expect(Object.fromEntries(auth.searchParams)).toMatchObject({
      access_type: 'offline',
      response_type: 'code',
      client_id: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
      scope:
        'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile',
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[0-9a-f]{64}$/),
    })
    expect(events[0]).toEqual({
      type: 'authorize',
      url: login.authUrl,
      callback: 'either',
      expiresAt: expect.any(Number),
    })

    const page = await fake!.browse(login.authUrl)
    expect(page.status).toBe(200)
    const result = await login.result
    expect(result.account).toBe('user@example.com')
    expect(result.credentials).toEqual({
      access_token: expect.stringMatching(/^ya29\.fake/),
      refresh_token: expect.stringMatching(/^1\/\/0fake/),
      scope: expect.stringContaining('cloud-platform'),
      token_type: 'Bearer',
      id_token: 'eyJ.fake.id',
      expiry_date: expect.any(Number),
    })
    const exchange = fake!.calls('/token')[0]!
    expect(exchange.body).toMatchObject({
      grant_type: 'authorization_code',
      redirect_uri: redirectUri,
      client_secret: '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',
    })
    const port = Number(new URL(redirectUri).port)
    await expect.poll(() => refused(port, '127.0.0.1')).toBe(true)
  })

  it('listens on 127.0.0.1 only', async () => {
    const {login} = await start()
    const port = Number(new URL(new URL(login.authUrl).searchParams.get('redirect_uri')!).port)
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal)
      .map((i) => i!.address)
    for (const host of [...others, '::1']) expect(await refused(port, host)).toBe(true)
    expect(await refused(port, '127.0.0.1')).toBe(false)
    await fake!.browse(login.authUrl)
    await login.result
  })

  it('rejects a wrong state with an error page and keeps waiting for the right one', async () => {
    const {login, events} = await start()
    const wrong = await fake!.browse(login.authUrl, {state: 'forged'})
    expect(wrong.status).toBe(400)
    expect(wrong.page).toMatch(/state mismatch/)
    expect(events).toContainEqual({type: 'callback_rejected', message: expect.stringMatching(/state mismatch/)})
    expect((await fake!.browse(login.authUrl)).status).toBe(200)
    expect((await login.result).account).toBe('user@example.com')
    expect(fake!.calls('/token')).toHaveLength(1)
  })

  it('answers 404 on other paths without ending the login', async () => {
    const {login} = await start()
    const origin = new URL(new URL(login.authUrl).searchParams.get('redirect_uri')!).origin
    const res = await request(`${origin}/favicon.ico`)
    expect(res.statusCode).toBe(404)
    await res.body.dump()
    await fake!.browse(login.authUrl)
    await login.result
  })

  it('accepts the redirect URL pasted from a browser on another machine', async () => {
    const {login} = await start()
    const redirect = await fake!.redirectFor(login.authUrl)
    expect(login.submitRedirectUrl('not a url')).toMatchObject({ok: false, final: false})
    expect(login.submitRedirectUrl(redirect)).toMatchObject({ok: true})
    expect((await login.result).credentials.refresh_token).toBeTruthy()
  })

  it('fails with the provider error when the user declines', async () => {
    const {login} = await start()
    const page = await fake!.browse(login.authUrl, {error: 'access_denied'})
    expect(page.status).toBe(400)
    await expect(login.result).rejects.toMatchObject({
      code: 'oauth_denied',
      message: expect.stringMatching(/access_denied/),
    })
  })

  it('times out and closes the listener', async () => {
    const {login} = await start({}, {timeoutMs: 100})
    await expect(login.result).rejects.toMatchObject({code: 'oauth_timeout'})
    const port = Number(new URL(new URL(login.authUrl).searchParams.get('redirect_uri')!).port)
    await expect.poll(() => refused(port, '127.0.0.1')).toBe(true)
  })

  it('cancels on abort (exit 130) and closes the listener', async () => {
    const controller = new AbortController()
    const {login} = await start({}, {signal: controller.signal})
    controller.abort()
    await expect(login.result).rejects.toMatchObject({exit: 130})
    const port = Number(new URL(new URL(login.authUrl).searchParams.get('redirect_uri')!).port)
    await expect.poll(() => refused(port, '127.0.0.1')).toBe(true)
  })

  it('fails when Google sends no refresh token', async () => {
    const {login} = await start({omitRefreshToken: true})
    await fake!.browse(login.authUrl)
    await expect(login.result).rejects.toMatchObject({code: 'oauth_no_refresh_token'})
  })

  it('says so when the port it is given is taken', async () => {
    const busy = await startFakeGoogleOAuth()
    const port = Number(new URL(busy.url).port)
    try {
      await expect(start({}, {port})).rejects.toMatchObject({
        code: 'port_in_use',
        message: `Port ${port} on 127.0.0.1 is already in use.`,
      })
    } finally {
      await busy.close()
    }
  })

  it('uses the port it is given', async () => {
    const probe = await startFakeGoogleOAuth()
    const port = Number(new URL(probe.url).port)
    await probe.close()
    const {login} = await start({}, {port})
    expect(new URL(login.authUrl).searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${port}/oauth2callback`)
    login.submitRedirectUrl(await fake!.redirectFor(login.authUrl))
    await login.result
  })
})

describe('Code Assist project discovery', () => {
  async function discover(options: FakeGoogleOAuthOptions) {
    fake = await startFakeGoogleOAuth(options)
    const clock = fakeClock()
    const {access_token} = fake.issueTokens()
    const project = discoverGeminiProject({
      baseUrl: fake.url,
      accessToken: access_token,
      sleep: clock.sleep,
      now: clock.now,
    })
    return {project, clock}
  }

  it('takes the project of an onboarded account', async () => {
    const {project} = await discover({codeAssist: {project: 'p-1'}})
    expect(await project).toEqual({projectId: 'p-1', tier: 'standard-tier'})
    expect(fake!.calls('/v1internal:loadCodeAssist')[0]!.body).toEqual({
      metadata: {ideType: 'IDE_UNSPECIFIED', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI'},
    })
  })

  it('onboards and polls the operation every 5 s', async () => {
    const {project, clock} = await discover({codeAssist: {currentTier: null, onboarding: 'operation'}})
    expect(await project).toEqual({projectId: 'fake-project-123', tier: 'standard-tier'})
    expect(clock.waits).toEqual([5000, 5000])
    expect(fake!.calls('/v1internal:onboardUser')[0]!.body).toMatchObject({tierId: 'standard-tier'})
  })

  it('re-posts onboardUser every 2 s when the server gives no operation name', async () => {
    const {project, clock} = await discover({
      codeAssist: {currentTier: null, onboarding: 'repost', allowedTiers: [{id: 'free-tier', isDefault: true}]},
    })
    expect(await project).toEqual({projectId: 'fake-project-123', tier: 'free-tier'})
    expect(clock.waits).toEqual([2000])
    expect(fake!.calls('/v1internal:onboardUser')[0]!.body).not.toHaveProperty('cloudaicompanionProject')
  })

  it("passes on the server's reasons when there is no project", async () => {
    const {project} = await discover({
      codeAssist: {
        loadReply: {
          status: 200,
          body: {
            currentTier: {id: 'free-tier'},
            ineligibleTiers: [
              {tierId: 'standard-tier', reasonCode: 'INELIGIBLE_ACCOUNT', reasonMessage: 'No licence.'},
            ],
          },
        },
      },
    })
    await expect(project).rejects.toThrow(
      'Code Assist offers this account no project. The server says: standard-tier: INELIGIBLE_ACCOUNT: No licence.',
    )
  })

  it('reports a refused loadCodeAssist with the server text', async () => {
    const {project} = await discover({
      codeAssist: {
        loadReply: {
          status: 403,
          body: {error: {code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED'}},
        },
      },
    })
    await expect(project).rejects.toThrow(
      'Code Assist loadCodeAssist failed: HTTP 403 PERMISSION_DENIED: The caller does not have permission.',
    )
  })
})
