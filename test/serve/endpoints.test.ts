// The endpoints clients call next to chat, through the real proxy and the official SDKs: OpenAI embeddings through
// the pool, Gemini's countTokens counted by Code Assist or estimated, Gemini embeddings refused as unimplemented, and
// unknown routes answered in the protocol of whoever asked, each logged.
import Anthropic from '@anthropic-ai/sdk'
import {GoogleGenAI} from '@google/genai'
import OpenAI from 'openai'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, startResponsesFake} from '../fakes/index.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {
  claudeInstance,
  get,
  openaiInstance,
  post,
  startTestProxy,
  useProxyHarness,
  type TestProxy,
} from '../helpers/proxy.js'

const h = useProxyHarness({failOnUnhandledRejection: true})

const openai = (base: string) => new OpenAI({apiKey: 'x', baseURL: `${base}/v1`, maxRetries: 0})
const genai = (base: string) => new GoogleGenAI({apiKey: 'x', httpOptions: {baseUrl: base}})

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('the call succeeded')
}

describe('OpenAI embeddings through the pool', () => {
  for (const [type, start] of [
    ['openai-custom', startOpenAIFake],
    ['openaiResponses-custom', startResponsesFake],
  ] as const) {
    it(`${type}: the SDK's embeddings.create passes through, with the instance's key, and is recorded`, async () => {
      const fake = await start({name: 'up', keys: ['sk-up-0123456789abcdef']})
      h.fakes = [fake]
      h.proxy = await startTestProxy({[type]: [openaiInstance(fake, 'up', 'sk-up-0123456789abcdef')]})
      const answer = await openai(`${h.proxy.url}/${type}`).embeddings.create({
        model: 'text-embedding-3-small',
        input: ['first text', 'second'],
      })
      expect(answer.data.map((d) => d.index)).toEqual([0, 1])
      // The SDK asks for base64 and decodes it: floats arriving means the bytes were not read as a chat answer.
      expect(answer.data[0]!.embedding).toHaveLength(8)
      expect(answer.data[0]!.embedding.every((x) => typeof x === 'number')).toBe(true)
      expect(answer.usage.prompt_tokens).toBeGreaterThan(0)
      const [sent] = fake.calls('embeddings')
      expect(sent).toMatchObject({path: '/v1/embeddings', key: 'sk-up-0123456789abcdef'})
      expect(sent!.body).toEqual({
        model: 'text-embedding-3-small',
        input: ['first text', 'second'],
        encoding_format: 'base64',
      })
      expect(h.proxy.records).toEqual([
        expect.objectContaining({
          route: `/${type}/v1/embeddings`,
          protocol: 'openai',
          type,
          instance: 'up',
          model: 'text-embedding-3-small',
          status: 200,
          attempts: 1,
          stream: false,
        }),
      ])
    })
  }

  it('Responses compaction, the other operation, still passes through to openaiResponses-custom', async () => {
    const fake = await startResponsesFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openaiResponses-custom': [openaiInstance(fake, 'up')]})
    const text = '{"model":"gpt-5.4",  "input":"hi"}'
    const answer = await post(`${h.proxy.url}/openaiResponses-custom/v1/responses/compact`, text)
    expect(answer.status, answer.text).toBe(200)
    expect(fake.calls('responses.compact')).toEqual([expect.objectContaining({rawBody: text})])
  })

  it('a type: model prefix picks the type and is removed before the upstream; upstream refusals pass as sent', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
    const answer = await post(`${h.proxy.url}/v1/embeddings`, {
      model: 'openai-custom:text-embedding-3-large',
      input: 'hi',
      encoding_format: 'float',
    })
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json().data[0].embedding).toHaveLength(8)
    expect(fake.calls('embeddings')[0]!.body.model).toBe('text-embedding-3-large')
    // The upstream's own 400 (a missing input) reaches the client in its words, and counts nothing against the instance.
    const refused = await post(`${h.proxy.url}/v1/embeddings`, {model: 'text-embedding-3-small'})
    expect(refused.status).toBe(400)
    expect(refused.json().error).toMatchObject({param: 'input', type: 'invalid_request_error'})
    expect(h.proxy.state.list('openai-custom')[0]!.healthy).toBe(true)
  })

  it('fails over on a 429 before the answer: the limited instance cools down, the next one answers', async () => {
    const limited = await startOpenAIFake({
      name: 'limited',
      script: {aux: (req) => (req.route === 'embeddings' ? {kind: 'status', status: 429, retryAfter: 30} : undefined)},
    })
    const good = await startOpenAIFake({name: 'good'})
    h.fakes = [limited, good]
    h.proxy = await startTestProxy({
      'openai-custom': [openaiInstance(limited, 'limited'), openaiInstance(good, 'good')],
    })
    const client = openai(h.proxy.url)
    for (let i = 0; i < 3; i++) {
      const answer = await client.embeddings.create({model: 'text-embedding-3-small', input: `text ${i}`})
      expect(answer.data).toHaveLength(1)
    }
    expect(limited.calls('embeddings')).toHaveLength(1)
    expect(good.calls('embeddings')).toHaveLength(3)
    const live = h.proxy.state.list('openai-custom').find((l) => l.config.name === 'limited')!
    expect(h.proxy.state.stateOf(live)).toBe('cooling')
    const attempts = h.proxy.records.map((r) => [r.instance, r.status, r.attempts])
    expect(attempts).toContainEqual(['good', 200, 2])
    expect(attempts.every(([, status]) => status === 200)).toBe(true)
  })

  it('other types have no embeddings: a 400 in OpenAI shape naming the types that do, not a missing model', async () => {
    const claude = await startAnthropicFake({name: 'claude'})
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [claude, fake]
    h.proxy = await startTestProxy({
      'claude-custom': [claudeInstance(claude, 'claude')],
      'openai-custom': [openaiInstance(fake, 'up')],
    })
    const error = await rejection(
      openai(`${h.proxy.url}/claude-custom`).embeddings.create({model: 'text-embedding-3-small', input: 'hi'}),
    )
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error).toMatchObject({type: 'invalid_request_error', code: null, param: null})
    expect(error.error.message).toBe(
      'Provider type claude-custom has no embeddings endpoint. openai-custom, openaiResponses-custom serve embeddings: ' +
        'choose one with a path prefix (/openai-custom/v1/embeddings) or a Model-Provider header.',
    )
    expect(claude.count + fake.count).toBe(0)
    expect(h.proxy.records).toEqual([
      expect.objectContaining({route: '/claude-custom/v1/embeddings', type: 'claude-custom', status: 400, attempts: 0}),
    ])
  })
})

describe("Gemini's countTokens", () => {
  let up: OAuthUpstreams
  let proxy: TestProxy
  beforeAll(async () => {
    up = await startOAuthUpstreams()
    proxy = await startTestProxy(up.pool())
  })
  afterAll(async () => {
    await proxy.cleanup()
    await up.close()
  })

  it("gemini-cli-oauth: Code Assist's countTokens counts, inside its envelope", async () => {
    const contents = [{role: 'user', parts: [{text: 'How many tokens is this sentence, exactly?'}]}]
    const before = up.codeAssist.calls('countTokens').length
    const counted = await genai(`${proxy.url}/gemini-cli-oauth`).models.countTokens({
      model: 'gemini-2.5-flash',
      contents,
    })
    const calls = up.codeAssist.calls('countTokens')
    expect(calls).toHaveLength(before + 1)
    expect(calls.at(-1)!.body).toEqual({request: {model: 'models/gemini-2.5-flash', contents}})
    // The fake's own count for these contents, as the public API would answer it.
    const direct = await post(`${up.codeAssist.url}/v1internal:countTokens`, calls.at(-1)!.body, {
      authorization: String(calls.at(-1)!.headers.authorization),
    })
    expect(counted.totalTokens).toBe(direct.json().totalTokens)
    const raw = await post(`${proxy.url}/gemini-cli-oauth/v1beta/models/gemini-2.5-flash:countTokens`, {contents})
    expect(raw.headers['x-aiclient-token-count']).toBe('upstream')
  })

  it("gemini-cli-oauth: Anthropic's count_tokens is estimated, never sent to Code Assist's Gemini count", async () => {
    const before = up.codeAssist.calls('countTokens').length
    const counted = await post(`${proxy.url}/gemini-cli-oauth/v1/messages/count_tokens`, {
      model: 'gemini-2.5-flash',
      messages: [{role: 'user', content: 'y'.repeat(40)}],
    })
    expect(counted.json()).toEqual({input_tokens: 10})
    expect(counted.headers['x-aiclient-token-count']).toBe('estimate')
    expect(up.codeAssist.calls('countTokens')).toHaveLength(before)
  })

  it('claude-custom: our estimate, labelled as such, in Gemini shape; Anthropic is not asked', async () => {
    const claude = await startAnthropicFake({name: 'claude'})
    h.fakes = [claude]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(claude, 'claude')]})
    const text = 'x'.repeat(400)
    const counted = await genai(h.proxy.url).models.countTokens({model: 'claude-sonnet-4-6', contents: text})
    expect(counted.totalTokens).toBe(100)
    const raw = await post(`${h.proxy.url}/v1beta/models/claude-sonnet-4-6:countTokens`, {
      generateContentRequest: {
        contents: [{role: 'user', parts: [{text}]}],
        systemInstruction: {parts: [{text: 'abcd'}]},
      },
    })
    expect(raw.json()).toEqual({totalTokens: 101})
    expect(raw.headers['x-aiclient-token-count']).toBe('estimate')
    expect(claude.count).toBe(0)
  })
})

describe('Gemini embeddings, which no pool type can serve', () => {
  it('embedContent and batchEmbedContents: a logged 501 UNIMPLEMENTED that points to /v1/embeddings', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
    // The SDK calls batchEmbedContents for the Gemini API.
    const error = await rejection(
      genai(h.proxy.url).models.embedContent({model: 'gemini-embedding-001', contents: 'hello'}),
    )
    expect(error.status).toBe(501)
    const raw = await post(`${h.proxy.url}/v1beta/models/gemini-embedding-001:embedContent`, {
      content: {parts: [{text: 'hello'}]},
    })
    expect(raw.status).toBe(501)
    const body = raw.json()
    expect(body).toEqual({error: {code: 501, status: 'UNIMPLEMENTED', message: expect.any(String)}})
    expect(body.error.message).toMatch(/^embedContent is not available through this server/)
    expect(body.error.message).toMatch(/POST \/v1\/embeddings/)
    expect(h.proxy.records.map((r) => [r.route, r.protocol, r.model, r.status])).toEqual([
      ['/v1beta/models/…:batchEmbedContents', 'gemini', 'gemini-embedding-001', 501],
      ['/v1beta/models/…:embedContent', 'gemini', 'gemini-embedding-001', 501],
    ])
    expect(fake.count).toBe(0)
  })
})

describe('unknown routes', () => {
  it('get a 404 in the protocol of whoever asked, logged with no type', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
    const url = h.proxy.url
    const openaiShape = await post(`${url}/v1/audio/speech`, {model: 'tts-1', input: 'hi'})
    expect(openaiShape.status).toBe(404)
    expect(openaiShape.json()).toEqual({
      error: {message: 'Unknown route POST /v1/audio/speech.', type: 'invalid_request_error', param: null, code: null},
    })
    // Anthropic's SDK, on a path of its own API we do not serve and on one only its headers tell apart.
    const anthropic = new Anthropic({apiKey: 'x', baseURL: url, maxRetries: 0})
    const batches = await rejection(anthropic.messages.batches.list())
    expect(batches).toBeInstanceOf(Anthropic.NotFoundError)
    expect(batches.error).toEqual({
      type: 'error',
      error: {type: 'not_found_error', message: 'Unknown route GET /v1/messages/batches.'},
      request_id: expect.stringMatching(/^req_/),
    })
    const legacy = await post(
      `${url}/v1/complete`,
      {model: 'claude-2', prompt: 'hi'},
      {'anthropic-version': '2023-06-01'},
    )
    expect(legacy.json()).toEqual({
      type: 'error',
      error: {type: 'not_found_error', message: 'Unknown route POST /v1/complete.'},
      request_id: expect.stringMatching(/^req_/),
    })
    // Gemini: a method we do not serve, in the v1beta API and in v1.
    for (const path of ['/v1beta/models/gemini-2.5-flash:predict', '/v1/models/gemini-2.5-flash:generateContent']) {
      const gemini = await post(`${url}${path}`, {})
      expect(gemini.status).toBe(404)
      expect(gemini.json()).toEqual({error: {code: 404, message: `Unknown route POST ${path}.`, status: 'NOT_FOUND'}})
    }
    const googleKey = await get(`${url}/v1/cachedContents`, {'x-goog-api-key': 'x'})
    expect(googleKey.json().error.status).toBe('NOT_FOUND')
    expect(h.proxy.records.map((r) => [r.route, r.protocol, r.type, r.status])).toEqual([
      ['/v1/audio/speech', 'openai', null, 404],
      ['/v1/messages/batches', 'anthropic', null, 404],
      ['/v1/complete', 'anthropic', null, 404],
      ['/v1beta/models/gemini-2.5-flash:predict', 'gemini', null, 404],
      ['/v1/models/gemini-2.5-flash:generateContent', 'gemini', null, 404],
      ['/v1/cachedContents', 'gemini', null, 404],
    ])
  })
})
