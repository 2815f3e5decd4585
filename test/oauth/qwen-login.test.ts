import {afterEach, describe, expect, it} from 'vitest'
import {AppError} from '../../src/core/errors.js'
import {loginQwen} from '../../src/core/oauth/qwen.js'
import type {LoginEvent} from '../../src/core/oauth/flow.js'
import {startFakeQwenOAuth, type FakeQwenOAuth, type FakeQwenOAuthOptions} from '../fakes/oauth/index.js'
import {fakeClock} from './helpers/clock.js'

let fake: FakeQwenOAuth | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function login(options: FakeQwenOAuthOptions, ...polls: Parameters<FakeQwenOAuth['enqueuePolls']>) {
  fake = await startFakeQwenOAuth(options)
  fake.enqueuePolls(...polls)
  const clock = fakeClock()
  const events: LoginEvent[] = []
  const opened: string[] = []
  const result = loginQwen({
    oauthBaseUrl: fake.url,
    sleep: clock.sleep,
    now: clock.now,
    onEvent: (e) => events.push(e),
    openBrowser: async (url) => void opened.push(url),
  })
  return {result, clock, events, opened, fake}
}

describe('Qwen device flow', () => {
  it('polls at 2 s, slows down ×1.5, and sends the PKCE verifier that matches the challenge', async () => {
    const {result, clock, events, opened} = await login({}, 'pending', 'slow_down', 'slow_down', 'approve')
    const login_ = await result
    expect(clock.waits).toEqual([2000, 3000, 4500])
    expect(fake!.verifierMatches).toEqual([true, true, true, true])
    const deviceRequest = fake!.calls('/api/v1/oauth2/device/code')[0]!
    expect(deviceRequest.body).toMatchObject({
      client_id: 'f0304373b74a44d2b584a3fb70ca9e56',
      scope: 'openid profile email model.completion',
      code_challenge_method: 'S256',
    })
    expect(deviceRequest.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(deviceRequest.body.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const poll = fake!.calls('/api/v1/oauth2/token')[0]!
    expect(poll.body).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: 'f0304373b74a44d2b584a3fb70ca9e56',
    })
    expect(poll.body.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const device = events.find((e) => e.type === 'device_code')
    expect(device).toMatchObject({type: 'device_code', userCode: expect.stringMatching(/^QW/)})
    expect(opened).toEqual([(device as {url: string}).url])
    expect(login_.credentials).toEqual({
      access_token: expect.stringMatching(/^qwen-at-/),
      refresh_token: expect.stringMatching(/^qwen-rt-/),
      token_type: 'Bearer',
      resource_url: 'portal.qwen.ai',
      expiry_date: clock.now() + 21_600_000,
    })
    expect(login_.expiresAt.getTime()).toBe(clock.now() + 21_600_000)
  })

  it('caps slow_down at 10 s and goes back to the base interval on pending, as qwen-code does', async () => {
    const {result, clock} = await login(
      {},
      'slow_down',
      'slow_down',
      'slow_down',
      'slow_down',
      'slow_down',
      'pending',
      'approve',
    )
    await result
    expect(clock.waits).toEqual([3000, 4500, 6750, 10_000, 10_000, 2000])
  })

  it("uses the server's interval when it sends one", async () => {
    const {result, clock} = await login({interval: 5}, 'pending', 'slow_down', 'approve')
    await result
    expect(clock.waits).toEqual([5000, 7500])
  })

  it.each([
    ['expired', 'oauth_expired', /expired_token/],
    ['denied', 'oauth_denied', /access_denied/],
  ] as const)('stops on %s with what the server said', async (poll, code, text) => {
    const {result, clock} = await login({}, 'pending', poll)
    const error = await result.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).code).toBe(code)
    expect((error as AppError).message).toMatch(text)
    expect(clock.waits).toEqual([2000])
  })

  it('gives up when the device code expires while still pending', async () => {
    const {result, clock} = await login({expiresIn: 7})
    await expect(result).rejects.toMatchObject({code: 'oauth_expired'})
    expect(clock.waits).toEqual([2000, 2000, 2000])
  })

  it('keeps polling through a server error and reports it', async () => {
    const {result, clock, events} = await login({}, {status: 503, body: 'upstream down'}, 'approve')
    await result
    expect(clock.waits).toEqual([2000])
    expect(events).toContainEqual(
      expect.objectContaining({type: 'poll', outcome: 'network_error', message: expect.stringMatching(/503/)}),
    )
  })

  it('reports a refused device-code request plainly', async () => {
    const {result} = await login({
      deviceReply: {
        status: 403,
        body: {error: 'access_denied', error_description: 'Qwen OAuth free tier has been discontinued.'},
      },
    })
    await expect(result).rejects.toThrow(
      'Qwen device authorization failed: HTTP 403 access_denied: Qwen OAuth free tier has been discontinued.',
    )
  })

  it('stops at once when cancelled', async () => {
    fake = await startFakeQwenOAuth()
    const controller = new AbortController()
    const result = loginQwen({
      oauthBaseUrl: fake.url,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'device_code') controller.abort()
      },
    })
    await expect(result).rejects.toMatchObject({exit: 130})
  })
})
