// Proves the Qwen portal fake's behaviours with raw requests.
import {Agent, request} from 'undici'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import type {FakeUpstream} from './fake-server.js'
import {QWEN_MODELS, qwenQuotaExceeded, startQwenPortalFake} from './qwen-portal-fake.js'
import {parseSse} from './sse.js'

const agent = new Agent({keepAliveTimeout: 10, keepAliveMaxTimeout: 10})
afterAll(() => agent.close())

const UA = 'QwenCode/0.0.14 (linux; x64)'
const QWEN_HEADERS = {
  'user-agent': UA,
  'x-dashscope-useragent': UA,
  'x-dashscope-authtype': 'qwen-oauth',
  'x-dashscope-cachecontrol': 'enable',
}

// oauth.md §2.6: https:// unless a scheme is given, then /v1 unless already there
const baseFromResourceUrl = (resourceUrl: string): string => {
  const origin = /^https?:\/\//i.test(resourceUrl) ? resourceUrl : `https://${resourceUrl}`
  return origin.endsWith('/v1') ? origin : `${origin}/v1`
}

async function chat(fake: FakeUpstream, headers: Record<string, string>, body: Record<string, unknown> = {}) {
  const res = await request(`${fake.baseUrl}/chat/completions`, {
    dispatcher: agent,
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: JSON.stringify({model: 'qwen3-coder-plus', messages: [{role: 'user', content: 'hi 你好'}], ...body}),
  })
  const text = await res.body.text()
  return {status: res.statusCode, text, json: () => JSON.parse(text)}
}

describe('qwen portal fake', () => {
  const tokens = new Set(['qwen-token-1'])
  const auth = (token = 'qwen-token-1') => ({...QWEN_HEADERS, authorization: `Bearer ${token}`})
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startQwenPortalFake({name: 'qwen-1', tokens, requireDashScopeHeaders: true})
  })
  afterEach(() => {
    fake.reset()
    tokens.clear()
    tokens.add('qwen-token-1')
  })
  afterAll(() => fake.close())

  it('serves OpenAI chat completions at the base a resource_url leads to', async () => {
    expect(baseFromResourceUrl(fake.url)).toBe(fake.baseUrl)
    const reply = await chat(fake, auth())
    expect(reply.status).toBe(200)
    expect(reply.json()).toMatchObject({
      object: 'chat.completion',
      model: 'qwen3-coder-plus',
      choices: [{message: {role: 'assistant', content: 'qwen-1: hi 你好'}, finish_reason: 'stop'}],
    })
    expect(fake.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      route: 'chat.completions',
      key: 'qwen-token-1',
    })
  })

  it('streams like the OpenAI fake', async () => {
    const reply = await chat(fake, auth(), {stream: true, stream_options: {include_usage: true}})
    const events = parseSse(reply.text).events
    expect(events.at(-1)?.data).toBe('[DONE]')
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data))
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('qwen-1: hi 你好')
    expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0)
  })

  it('lists the Qwen models and rejects others', async () => {
    const res = await request(`${fake.baseUrl}/models`, {dispatcher: agent, headers: auth()})
    const list = (await res.body.json()) as {data: {id: string}[]}
    expect(list.data.map((m) => m.id)).toEqual(QWEN_MODELS)
    expect((await chat(fake, auth(), {model: 'gpt-4o'})).status).toBe(404)
  })

  it.each([
    ['x-dashscope-authtype', 'X-DashScope-AuthType: qwen-oauth'],
    ['x-dashscope-cachecontrol', 'X-DashScope-CacheControl: enable'],
    ['user-agent', 'User-Agent: QwenCode/<version> (<platform>; <arch>)'],
    ['x-dashscope-useragent', 'X-DashScope-UserAgent: QwenCode/<version> (<platform>; <arch>)'],
  ])('rejects a request without %s', async (name, shown) => {
    const headers: Record<string, string> = {...auth(), [name]: 'something-else'}
    const reply = await chat(fake, headers)
    expect(reply.status).toBe(400)
    expect(reply.json().error).toMatchObject({
      message: `Missing or invalid header: ${shown}`,
      type: 'invalid_request_error',
    })
    expect(fake.completed).toBe(0)
  })

  it('accepts any headers unless asked to check them', async () => {
    const lax = await startQwenPortalFake()
    try {
      expect((await chat(lax, {})).status).toBe(200)
    } finally {
      await lax.close()
    }
  })

  it('rejects a stale access token with 401 and accepts the refreshed one', async () => {
    tokens.clear()
    tokens.add('qwen-token-2')
    const stale = await chat(fake, auth())
    expect(stale.status).toBe(401)
    expect(stale.json().error.message).toBe('invalid access token or token expired')
    const missing = await chat(fake, QWEN_HEADERS)
    expect(missing.status).toBe(401)
    expect((await chat(fake, auth('qwen-token-2'))).status).toBe(200)
  })

  it.each([
    [{}, 429, 'insufficient_quota'],
    [{status: 403, code: 'quota_exceeded'} as const, 403, 'quota_exceeded'],
  ])('answers the exhausted free quota %j', async (opts, status, code) => {
    fake.enqueue(qwenQuotaExceeded(opts))
    const reply = await chat(fake, auth())
    expect(reply.status).toBe(status)
    expect(reply.json()).toEqual({error: {message: 'Free allocated quota exceeded.', type: code, param: null, code}})
    expect((await chat(fake, auth())).status).toBe(200)
  })
})
