import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let openai: FakeUpstream
let anthropic: FakeUpstream
let proxy: TestProxy

beforeAll(async () => {
  openai = await startOpenAIFake({name: 'oa', models: ['gpt-a', 'gpt-b', 'm']})
  anthropic = await startAnthropicFake({name: 'an'})
  proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(openai, 'oa')], 'claude-custom': [claudeInstance(anthropic, 'an')]},
    {corsOrigins: ['http://localhost:5173']},
  )
})
afterAll(async () => {
  await proxy.cleanup()
  await openai.close()
  await anthropic.close()
})

const body = (model = 'm') => ({model, max_tokens: 10, messages: [{role: 'user', content: 'hi'}]})

describe('choosing the provider type', () => {
  it('from the path prefix', async () => {
    const r = await post(`${proxy.url}/claude-custom/v1/chat/completions`, body())
    expect(r.status).toBe(200)
    expect(anthropic.requests.at(-1)!.body.model).toBe('m')
  })

  it('from the Model-Provider header, and an unknown one is a 400 listing the valid types', async () => {
    expect((await post(`${proxy.url}/v1/messages`, body(), {'model-provider': 'openai-custom'})).status).toBe(200)
    expect(openai.requests.at(-1)!.route).toBe('chat.completions')
    const bad = await post(`${proxy.url}/v1/messages`, body(), {'model-provider': 'openai'})
    expect(bad.status).toBe(400)
    expect(bad.json().error.message).toMatch(
      /Unknown provider type "openai".*openai-custom, claude-custom, gemini-cli-oauth/,
    )
  })

  it('from a type: prefix on the model, which the upstream never sees', async () => {
    const r = await post(`${proxy.url}/v1/chat/completions`, body('claude-custom:claude-sonnet-4-6'))
    expect(r.status).toBe(200)
    expect(anthropic.requests.at(-1)!.body.model).toBe('claude-sonnet-4-6')
    await post(`${proxy.url}/v1/chat/completions`, body('openai-custom:gpt-a'))
    expect(openai.requests.at(-1)!.rawBody).toContain('"model":"gpt-a"')
  })

  it('with several types and no default, a 400 that names the ways to choose', async () => {
    const r = await post(`${proxy.url}/v1/chat/completions`, body())
    expect(r.status).toBe(400)
    expect(r.json().error.message).toMatch(/path prefix.*Model-Provider header.*"type:" prefix.*default/)
  })

  it('passes same-protocol bodies through unchanged and never forwards the client key', async () => {
    const raw = '{"model":"m","messages":[{"role":"user","content":"exact   bytes"}],"custom_field":{"keep":true}}'
    await post(`${proxy.url}/openai-custom/v1/chat/completions`, raw, {
      authorization: 'Bearer client-side-key',
      'x-api-key': 'client-side-key',
    })
    const seen = openai.requests.at(-1)!
    expect(seen.rawBody).toBe(raw)
    expect(JSON.stringify(seen.headers)).not.toContain('client-side-key')
    expect(seen.key).toBe('sk-oa-0123456789abcdef')
  })
})

describe('other endpoints', () => {
  it('/health reports counts per type and nothing identifying', async () => {
    const r = await get(`${proxy.url}/health`)
    expect(r.status).toBe(200)
    expect(r.json()).toMatchObject({
      status: 'ok',
      types: {'openai-custom': {healthy: 1, total: 1}, 'claude-custom': {healthy: 1, total: 1}},
    })
    expect(r.text).not.toMatch(/uuid|oa|an"|sk-|127\.0\.0\.1|provider_pools/)
  })

  it('/v1/models in OpenAI and Anthropic format, /v1beta/models in Gemini format', async () => {
    const openaiList = (await get(`${proxy.url}/openai-custom/v1/models`)).json()
    expect(openaiList).toMatchObject({object: 'list', data: [{id: 'gpt-a', object: 'model'}, {id: 'gpt-b'}, {id: 'm'}]})
    const anthropicList = (
      await get(`${proxy.url}/openai-custom/v1/models`, {'anthropic-version': '2023-06-01'})
    ).json()
    expect(anthropicList.data[0]).toMatchObject({type: 'model', id: 'gpt-a'})
    const geminiList = (await get(`${proxy.url}/openai-custom/v1beta/models`)).json()
    expect(geminiList.models[0].name).toBe('models/gpt-a')
    const all = (await get(`${proxy.url}/v1/models`)).json()
    expect(all.data.map((m: {id: string}) => m.id)).toEqual(
      expect.arrayContaining(['openai-custom:gpt-a', expect.stringMatching(/^claude-custom:/)]),
    )
  })

  it('answers CORS preflights with the headers browser clients send', async () => {
    const {request} = await import('undici')
    const r = await request(`${proxy.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key,anthropic-version',
      },
    })
    expect(r.statusCode).toBe(204)
    await r.body.dump()
    const allowed = String(r.headers['access-control-allow-headers'])
    for (const name of [
      'authorization',
      'content-type',
      'x-api-key',
      'anthropic-version',
      'x-goog-api-key',
      'model-provider',
    ])
      expect(allowed).toContain(name)
    expect(anthropic.count + openai.count).toBeGreaterThan(0)
  })

  it('413 for a body over the limit, in the client protocol', async () => {
    const big = {model: 'm', max_tokens: 5, messages: [{role: 'user', content: 'x'.repeat(21 * 1024 * 1024)}]}
    const r = await post(`${proxy.url}/claude-custom/v1/messages`, big)
    expect(r.status).toBe(413)
    expect(r.json()).toMatchObject({type: 'error', error: {type: 'request_too_large'}})
  })
})

describe('count_tokens', () => {
  it('asks an Anthropic upstream, and estimates for others', async () => {
    const body = {model: 'm', system: 'Be brief.', messages: [{role: 'user', content: 'x'.repeat(400)}]}
    const upstream = await post(`${proxy.url}/claude-custom/v1/messages/count_tokens`, body, {
      'anthropic-version': '2023-06-01',
    })
    expect(upstream.status).toBe(200)
    expect(upstream.headers['x-aiclient-token-count']).toBe('upstream')
    expect(anthropic.requests.at(-1)!.route).toBe('count_tokens')
    expect(upstream.json().input_tokens).toEqual(expect.any(Number))
    const estimated = await post(`${proxy.url}/openai-custom/v1/messages/count_tokens`, body)
    expect(estimated.status).toBe(200)
    expect(estimated.headers['x-aiclient-token-count']).toBe('estimate')
    // (9 + 400 characters) / 4, rounded up
    expect(estimated.json()).toEqual({input_tokens: 103})
    const bad = await post(`${proxy.url}/openai-custom/v1/messages/count_tokens`, {messages: []})
    expect(bad.status).toBe(400)
    expect(bad.json()).toMatchObject({type: 'error', error: {type: 'invalid_request_error'}})
  })
})
