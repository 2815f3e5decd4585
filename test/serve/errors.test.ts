import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let openai: FakeUpstream
let anthropic: FakeUpstream
let proxy: TestProxy

beforeAll(async () => {
  openai = await startOpenAIFake({name: 'oa'})
  anthropic = await startAnthropicFake({name: 'an'})
  proxy = await startTestProxy(
    {
      'openai-custom': [openaiInstance(openai, 'oa')],
      'claude-custom': [claudeInstance(anthropic, 'an')],
    },
    {apiKey: 'the-client-key'},
  )
})
afterAll(async () => {
  await proxy.cleanup()
  await openai.close()
  await anthropic.close()
})

const AUTH = {authorization: 'Bearer the-client-key'}

const PROTOCOLS = {
  openai: {
    url: (type: string) => `/${type}/v1/chat/completions`,
    body: {model: 'm', messages: [{role: 'user', content: 'hi'}]},
    check: (json: any, _status: number) => {
      expect(json.error).toMatchObject({message: expect.any(String), type: expect.any(String)})
      expect(json.error).toHaveProperty('code')
    },
  },
  anthropic: {
    url: (type: string) => `/${type}/v1/messages`,
    body: {model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'hi'}]},
    check: (json: any, status: number) => {
      const types: Record<number, string> = {
        400: 'invalid_request_error',
        401: 'authentication_error',
        404: 'not_found_error',
        429: 'rate_limit_error',
        503: 'overloaded_error',
      }
      expect(json).toMatchObject({type: 'error', error: {type: types[status], message: expect.any(String)}})
    },
  },
  gemini: {
    url: (type: string) => `/${type}/v1beta/models/m:generateContent`,
    body: {contents: [{role: 'user', parts: [{text: 'hi'}]}]},
    check: (json: any, status: number) => {
      const names: Record<number, string> = {
        400: 'INVALID_ARGUMENT',
        401: 'UNAUTHENTICATED',
        404: 'NOT_FOUND',
        429: 'RESOURCE_EXHAUSTED',
        503: 'UNAVAILABLE',
      }
      expect(json.error).toMatchObject({code: status, status: names[status], message: expect.any(String)})
    },
  },
} as const

describe.each(Object.entries(PROTOCOLS))('%s client error shapes', (_name, p) => {
  it('401 without the key', async () => {
    const r = await post(`${proxy.url}${p.url('openai-custom')}`, p.body)
    expect(r.status).toBe(401)
    p.check(r.json(), 401)
  })

  it('400 for a body that is not JSON, and for an unknown provider type naming the valid ones', async () => {
    const r = await post(`${proxy.url}${p.url('openai-custom')}`, '{not json', AUTH)
    expect(r.status).toBe(400)
    p.check(r.json(), 400)
    const unknown = await post(`${proxy.url}${p.url('openai-kustom')}`, p.body, AUTH)
    expect(unknown.status).toBe(400)
    p.check(unknown.json(), 400)
    expect(unknown.text).toMatch(/openai-custom, claude-custom/)
  })

  it('404 from the upstream passes through in the client protocol', async () => {
    openai.enqueue({kind: 'status', status: 404, message: 'The model m does not exist'})
    const r = await post(`${proxy.url}${p.url('openai-custom')}`, p.body, AUTH)
    expect(r.status).toBe(404)
    p.check(r.json(), 404)
    expect(r.text).toMatch(/does not exist/)
  })

  it('429 with Retry-After when every instance is cooling', async () => {
    anthropic.enqueue({kind: 'status', status: 429, retryAfter: 7})
    const r = await post(`${proxy.url}${p.url('claude-custom')}`, p.body, AUTH)
    expect(r.status).toBe(429)
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(6)
    p.check(r.json(), 429)
    proxy.state.list('claude-custom')[0]!.cooldownUntil = 0
  })

  it('503 when no instance is usable, saying why', async () => {
    const live = proxy.state.list('openai-custom')[0]!
    live.healthy = false
    try {
      const r = await post(`${proxy.url}${p.url('openai-custom')}`, p.body, AUTH)
      expect(r.status).toBe(503)
      p.check(r.json(), 503)
      expect(r.text).toMatch(/1 unhealthy/)
    } finally {
      live.healthy = true
    }
  })
})
