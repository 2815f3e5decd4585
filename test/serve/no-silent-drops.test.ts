// Nothing silently dropped, through the real proxy and fake upstreams: what the codecs promise reaches the client.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {
  encodeFrame,
  fakeTokens,
  parseSse,
  splitCodePoints,
  startAnthropicFake,
  startOpenAIFake,
} from '../fakes/index.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'
import {typeCheck, type Sample, type WireType} from '../conformance/typecheck.js'

const h = useProxyHarness()

type Json = Record<string, any>

function sse(chunks: Json[]): string {
  return chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('') + 'data: [DONE]\n\n'
}

function chunk(delta: Json, finish: string | null = null): Json {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'up',
    choices: [{index: 0, delta, finish_reason: finish}],
  }
}

async function openAIStreaming(body: string) {
  const fake = await startOpenAIFake({
    name: 'oa',
    script: {fallback: {kind: 'raw', status: 200, headers: {'content-type': 'text/event-stream'}, body}},
  })
  h.fakes = [fake]
  h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'oa')]})
  return h.proxy
}

const anthropicStream = {model: 'm', max_tokens: 50, stream: true, messages: [{role: 'user', content: 'hi'}]}
const geminiStream = {contents: [{role: 'user', parts: [{text: 'hi'}]}]}
const GEMINI_STREAM_PATH = '/v1beta/models/m:streamGenerateContent?alt=sse'

function sseJson(text: string): Json[] {
  return parseSse(text).events.map((event) => JSON.parse(event.data) as Json)
}

describe('streamed answers through the proxy', () => {
  it('d. an OpenAI upstream’s streamed refusal reaches an Anthropic client as text', async () => {
    const proxy = await openAIStreaming(
      sse([chunk({role: 'assistant', refusal: ''}), chunk({refusal: 'I cannot help with that.'}), chunk({}, 'stop')]),
    )
    const response = await post(`${proxy.url}/openai-custom/v1/messages`, anthropicStream)
    expect(response.status).toBe(200)
    const text = sseJson(response.text)
      .filter((event) => event.type === 'content_block_delta')
      .map((event) => event.delta.text)
      .join('')
    expect(text).toBe('I cannot help with that.')
  })

  it('f. an OpenAI tool call whose name comes in its own chunk reaches an Anthropic client whole', async () => {
    const call = (fragment: Json) => chunk({tool_calls: [{index: 0, ...fragment}]})
    const proxy = await openAIStreaming(
      sse([
        call({id: 'call_1', type: 'function', function: {arguments: ''}}),
        call({function: {name: 'get_weather'}}),
        call({function: {arguments: '{"city":"Paris"}'}}),
        chunk({}, 'tool_calls'),
      ]),
    )
    const response = await post(`${proxy.url}/openai-custom/v1/messages`, anthropicStream)
    const starts = sseJson(response.text).filter((event) => event.type === 'content_block_start')
    expect(starts.map((event) => event.content_block)).toEqual([
      {type: 'tool_use', id: 'call_1', name: 'get_weather', input: {}, caller: {type: 'direct'}},
    ])
  })

  it('f. an OpenAI tool call without a name ends a Gemini client’s stream with an error, not a nameless call', async () => {
    const proxy = await openAIStreaming(
      sse([chunk({tool_calls: [{index: 0, id: 'call_1', function: {arguments: '{}'}}]}), chunk({}, 'tool_calls')]),
    )
    const response = await post(`${proxy.url}/openai-custom${GEMINI_STREAM_PATH}`, geminiStream)
    const events = sseJson(response.text)
    expect(events.some((event) => JSON.stringify(event).includes('functionCall'))).toBe(false)
    expect(events.at(-1)?.error).toMatchObject({code: 502, message: expect.stringMatching(/without a function name/)})
  })
})

describe('errors through the proxy', () => {
  it('i. an Anthropic upstream’s 529 in a stream reaches a Gemini client as 503 UNAVAILABLE', async () => {
    const fake = await startAnthropicFake({
      name: 'an',
      script: {fallback: {kind: 'stream-error', afterEvents: 3, status: 529, message: 'Overloaded'}},
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'an')]})
    const response = await post(`${h.proxy.url}/claude-custom${GEMINI_STREAM_PATH}`, geminiStream)
    const last = sseJson(response.text).at(-1)
    expect(last).toEqual({error: {code: 503, message: 'Overloaded', status: 'UNAVAILABLE'}})
  })
})

describe('h. the model name in answers', () => {
  const dated = 'gpt-4o-2024-08-06'
  const plain = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: dated,
    choices: [{index: 0, message: {role: 'assistant', content: 'hi'}, finish_reason: 'stop'}],
    usage: {prompt_tokens: 3, completion_tokens: 1, total_tokens: 4},
  }
  const streamed = sse([
    {...chunk({role: 'assistant', content: 'hi'}), model: dated},
    {...chunk({}, 'stop'), model: dated},
  ])
  const clients = [
    {
      protocol: 'anthropic',
      path: () => '/v1/messages',
      body: (stream: boolean) => ({...anthropicStream, model: 'gpt-4o', stream}),
      models: (text: string, stream: boolean) =>
        stream ? sseJson(text).flatMap((event) => event.message?.model ?? []) : [JSON.parse(text).model],
    },
    {
      protocol: 'gemini',
      path: (stream: boolean) =>
        stream ? '/v1beta/models/gpt-4o:streamGenerateContent?alt=sse' : '/v1beta/models/gpt-4o:generateContent',
      body: () => geminiStream,
      models: (text: string, stream: boolean) =>
        stream ? sseJson(text).map((event) => event.modelVersion) : [JSON.parse(text).modelVersion],
    },
    {
      protocol: 'responses',
      path: () => '/v1/responses',
      body: (stream: boolean) => ({model: 'gpt-4o', input: 'hi', stream}),
      models: (text: string, stream: boolean) =>
        stream ? sseJson(text).flatMap((event) => event.response?.model ?? []) : [JSON.parse(text).model],
    },
  ]

  it.each(clients)('is the one the $protocol client asked for, streamed and not', async (client) => {
    const fake = await startOpenAIFake({
      name: 'oa',
      script: {
        handler: (req) =>
          req.stream
            ? {kind: 'raw', status: 200, headers: {'content-type': 'text/event-stream'}, body: streamed}
            : {kind: 'raw', status: 200, headers: {'content-type': 'application/json'}, body: JSON.stringify(plain)},
      },
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'oa')]})
    for (const stream of [false, true]) {
      const response = await post(`${h.proxy.url}/openai-custom${client.path(stream)}`, client.body(stream))
      expect(response.status).toBe(200)
      const models = client.models(response.text, stream)
      expect(models.length).toBeGreaterThan(0)
      expect(new Set(models)).toEqual(new Set(['gpt-4o']))
    }
  })
})

describe('g. input tokens in an Anthropic client’s message_start', () => {
  let up: OAuthUpstreams
  beforeAll(async () => {
    up = await startOAuthUpstreams()
  })
  afterAll(async () => {
    await up.close()
  })

  it('come from the usage Code Assist (Gemini) reports in its first chunk', async () => {
    h.proxy = await startTestProxy(up.pool())
    up.codeAssist.enqueue({kind: 'reply', reply: {text: 'Hello there', chunkSize: 4, usage: {input: 42, output: 3}}})
    const response = await post(`${h.proxy.url}/gemini-cli-oauth/v1/messages`, {
      ...anthropicStream,
      model: 'gemini-2.5-flash',
    })
    const events = sseJson(response.text)
    expect(events[0]).toMatchObject({type: 'message_start', message: {usage: {input_tokens: 42, output_tokens: 0}}})
    expect(events.find((event) => event.type === 'message_delta')?.usage).toMatchObject({input_tokens: 42})
  })

  it('come from the token usage Kiro reports before its answer', async () => {
    h.proxy = await startTestProxy(up.pool())
    const frame = (eventType: string, payload: unknown) => encodeFrame({messageType: 'event', eventType, payload})
    const body = Buffer.concat([
      frame('metadataEvent', {tokenUsage: {uncachedInputTokens: 30, outputTokens: 2}}),
      frame('assistantResponseEvent', {content: 'Hello'}),
    ])
    up.kiro.enqueue({kind: 'raw', status: 200, headers: {'content-type': 'application/vnd.amazon.eventstream'}, body})
    const response = await post(`${h.proxy.url}/claude-kiro-oauth/v1/messages`, {
      ...anthropicStream,
      model: 'claude-sonnet-4-5',
    })
    const events = sseJson(response.text)
    expect(events[0]).toMatchObject({type: 'message_start', message: {usage: {input_tokens: 30, output_tokens: 0}}})
    expect(events.find((event) => event.type === 'message_delta')?.usage).toMatchObject({output_tokens: 2})
  })
})

describe('what a converted request cannot carry is a 400 in the client’s protocol', () => {
  it('OpenAI n: 2 to an Anthropic upstream, and Gemini JSON mode without a schema, never reach the upstream', async () => {
    const fake = await startAnthropicFake({name: 'an'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'an')]})
    const chat = await post(`${h.proxy.url}/claude-custom/v1/chat/completions`, {
      model: 'm',
      n: 2,
      messages: [{role: 'user', content: 'hi'}],
    })
    expect(chat.status).toBe(400)
    expect(chat.json().error).toMatchObject({type: 'invalid_request_error', message: expect.stringMatching(/n \//)})
    const logprobs = await post(`${h.proxy.url}/claude-custom/v1/chat/completions`, {
      model: 'm',
      logprobs: true,
      messages: [{role: 'user', content: 'hi'}],
    })
    expect(logprobs.status).toBe(400)
    expect(logprobs.json().error).toMatchObject({message: expect.stringMatching(/Log probabilities/)})
    const gemini = await post(`${h.proxy.url}/claude-custom/v1beta/models/m:generateContent`, {
      ...geminiStream,
      generationConfig: {responseMimeType: 'application/json'},
    })
    expect(gemini.status).toBe(400)
    expect(gemini.json().error).toMatchObject({code: 400, status: 'INVALID_ARGUMENT'})
    expect(fake.requests.filter((req) => req.route === 'messages')).toEqual([])
  })
})

// OpenAI chat completions' `logprobs.content` for a text, as the fakes make it (one token per word).
function openAITokens(text: string, top: number): Json[] {
  const bytes = (token: string) => Array.from(Buffer.from(token, 'utf8'))
  return fakeTokens(text, top).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: bytes(t.token),
    top_logprobs: t.top.map((o) => ({token: o.token, logprob: o.logprob, bytes: bytes(o.token)})),
  }))
}

describe('a, b. several answers and log probabilities between OpenAI and Gemini', () => {
  let up: OAuthUpstreams
  beforeAll(async () => {
    up = await startOAuthUpstreams()
  })
  afterAll(async () => {
    await up.close()
  })

  // What the clients got, checked at the end against the vendors' own types in one compiler run.
  const samples: Sample[] = []
  const answered = (type: WireType, values: unknown[]) =>
    samples.push(...values.map((value, i) => ({label: `${expect.getState().currentTestName} ${i}`, type, value})))

  const chat = {
    model: 'gemini-2.5-flash',
    messages: [{role: 'user', content: 'hi'}],
    n: 2,
    logprobs: true,
    top_logprobs: 2,
  }
  const texts = ['Hello there, é', 'Hello there, é (answer 2)']

  it('an OpenAI client’s n and logprobs reach Code Assist (gemini-cli-oauth), and its candidates come back as choices', async () => {
    h.proxy = await startTestProxy(up.pool())
    const before = up.codeAssist.requests.length
    up.codeAssist.enqueue({kind: 'reply', reply: {text: texts[0]}})
    const response = await post(`${h.proxy.url}/gemini-cli-oauth/v1/chat/completions`, chat)
    expect(response.status).toBe(200)
    const sent = up.codeAssist.requests.slice(before).filter((req) => req.route === 'generateContent')
    expect(sent).toHaveLength(1)
    expect(sent[0]!.body.request.generationConfig).toEqual({candidateCount: 2, responseLogprobs: true, logprobs: 2})
    const body = response.json()
    expect(body.choices).toEqual(
      texts.map((text, index) => ({
        index,
        message: {role: 'assistant', content: text, refusal: null},
        logprobs: {content: openAITokens(text, 2), refusal: null},
        finish_reason: 'stop',
      })),
    )
    answered('OpenAIChatCompletion', [body])
  })

  it('streamed, n is a 400 in OpenAI’s shape that says so, and Code Assist is not asked', async () => {
    h.proxy = await startTestProxy(up.pool())
    const before = up.codeAssist.requests.filter((req) => req.route.endsWith('GenerateContent')).length
    const response = await post(`${h.proxy.url}/gemini-cli-oauth/v1/chat/completions`, {...chat, stream: true})
    expect(response.status).toBe(400)
    expect(response.json().error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/n \/ candidateCount = 2\) cannot be streamed through this upstream/),
    })
    expect(up.codeAssist.requests.filter((req) => req.route.endsWith('GenerateContent')).length).toBe(before)
  })

  it('streamed, an OpenAI client’s logprobs reach Code Assist, and each chunk’s come back on its text', async () => {
    h.proxy = await startTestProxy(up.pool())
    const before = up.codeAssist.requests.length
    up.codeAssist.enqueue({kind: 'reply', reply: {text: texts[0], chunkSize: 6}})
    const {n: _, ...one} = chat
    const response = await post(`${h.proxy.url}/gemini-cli-oauth/v1/chat/completions`, {...one, stream: true})
    expect(response.status).toBe(200)
    const sent = up.codeAssist.requests.slice(before).filter((req) => req.route === 'streamGenerateContent')
    expect(sent[0]!.body.request.generationConfig).toEqual({responseLogprobs: true, logprobs: 2})
    const chunks = parseSse(response.text)
      .events.flatMap((event) => (event.data === '[DONE]' ? [] : [JSON.parse(event.data) as Json]))
      .filter((event) => event.choices[0]?.delta.content)
    const pieces = splitCodePoints(texts[0]!, 6)
    expect(chunks.map((event) => event.choices[0])).toEqual(
      pieces.map((piece) => ({
        index: 0,
        delta: {content: piece},
        logprobs: {content: openAITokens(piece, 2), refusal: null},
        finish_reason: null,
      })),
    )
    answered('OpenAIChatCompletionChunk', chunks)
  })

  const geminiAsk = {
    contents: [{role: 'user', parts: [{text: 'hi'}]}],
    generationConfig: {candidateCount: 2, responseLogprobs: true, logprobs: 2},
  }

  it.each([
    ['openai-custom', 'gpt-4o'],
    ['openai-qwen-oauth', 'qwen3-coder-plus'],
  ])(
    'a Gemini client’s candidateCount and logprobs reach %s, and its choices come back as candidates',
    async (type, model) => {
      const fake = type === 'openai-custom' ? await startOpenAIFake({name: 'oa'}) : up.portal
      if (type === 'openai-custom') h.fakes = [fake]
      const pool = type === 'openai-custom' ? {'openai-custom': [openaiInstance(fake, 'oa')]} : up.pool()
      h.proxy = await startTestProxy(pool)
      const before = fake.requests.length
      fake.enqueue({kind: 'reply', reply: {text: texts[0]}})
      const response = await post(`${h.proxy.url}/${type}/v1beta/models/${model}:generateContent`, geminiAsk)
      expect(response.status).toBe(200)
      const sent = fake.requests.slice(before).filter((req) => req.route === 'chat.completions')
      expect(sent).toHaveLength(1)
      expect(sent[0]!.body).toMatchObject({n: 2, logprobs: true, top_logprobs: 2})
      expect(sent[0]!.body.stream).toBeUndefined()
      const body = response.json()
      expect(body.candidates).toEqual(
        texts.map((text, index) => {
          const tokens = fakeTokens(text, 2)
          const sum = tokens.reduce((total, t) => total + t.logprob, 0)
          const entry = (t: {token: string; logprob: number}) => ({token: t.token, logProbability: t.logprob})
          return {
            content: {role: 'model', parts: [{text}]},
            finishReason: 'STOP',
            index,
            avgLogprobs: sum / tokens.length,
            logprobsResult: {
              chosenCandidates: tokens.map(entry),
              topCandidates: tokens.map((t) => ({candidates: t.top.map(entry)})),
              logProbabilitySum: sum,
            },
          }
        }),
      )
      answered('GeminiResponse', [body])
    },
  )

  it('a streamed Gemini client’s candidateCount is a 400 in Gemini’s shape that says so', async () => {
    const fake = await startOpenAIFake({name: 'oa'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'oa')]})
    const response = await post(`${h.proxy.url}/openai-custom${GEMINI_STREAM_PATH}`, geminiAsk)
    expect(response.status).toBe(400)
    expect(response.json().error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/Several answers at once .* cannot be streamed/),
    })
    expect(fake.requests.filter((req) => req.route === 'chat.completions')).toEqual([])
  })

  it('a streamed Gemini client’s logprobs reach openai-custom, and each chunk’s come back on its text', async () => {
    const fake = await startOpenAIFake({name: 'oa'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'oa')]})
    fake.enqueue({kind: 'reply', reply: {text: texts[0], chunkSize: 6}})
    const response = await post(`${h.proxy.url}/openai-custom${GEMINI_STREAM_PATH}`, {
      ...geminiAsk,
      generationConfig: {responseLogprobs: true, logprobs: 2},
    })
    expect(response.status).toBe(200)
    const sent = fake.requests.filter((req) => req.route === 'chat.completions')
    expect(sent[0]!.body).toMatchObject({stream: true, logprobs: true, top_logprobs: 2})
    expect(sent[0]!.body).not.toHaveProperty('n')
    const entry = (t: {token: string; logprob: number}) => ({token: t.token, logProbability: t.logprob})
    const candidates = sseJson(response.text)
      .map((event) => event.candidates[0])
      .filter((candidate) => candidate.content.parts.length > 0)
    expect(candidates.map((candidate) => candidate.content.parts[0].text).join('')).toBe(texts[0])
    // The proxy writes what one read of the upstream brought as one chunk: chunks may hold several of the upstream's.
    const tokens = splitCodePoints(texts[0]!, 6).flatMap((piece) => fakeTokens(piece, 2))
    const results = candidates.map((candidate) => candidate.logprobsResult)
    expect(results.flatMap((result) => result.chosenCandidates)).toEqual(tokens.map(entry))
    expect(results.flatMap((result) => result.topCandidates)).toEqual(
      tokens.map((t) => ({candidates: t.top.map(entry)})),
    )
    for (const candidate of candidates) {
      const chosen: {logProbability: number}[] = candidate.logprobsResult.chosenCandidates
      const sum = chosen.reduce((total, c) => total + c.logProbability, 0)
      expect(candidate.logprobsResult.logProbabilitySum).toBe(sum)
      expect(candidate.avgLogprobs).toBe(sum / chosen.length)
    }
    answered('GeminiResponse', sseJson(response.text))
  })

  it.each([
    ['claude-kiro-oauth', 'claude-sonnet-4-5'],
    ['claude-custom', 'claude-sonnet-4-5'],
  ])('a Gemini client’s candidateCount and logprobs are a 400 towards %s', async (type, model) => {
    const fake = await startAnthropicFake({name: 'an'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({...up.pool(), 'claude-custom': [claudeInstance(fake, 'an')]})
    const kiroBefore = up.kiro.requests.length
    for (const generationConfig of [{candidateCount: 2}, {responseLogprobs: true}]) {
      const response = await post(`${h.proxy.url}/${type}/v1beta/models/${model}:generateContent`, {
        ...geminiAsk,
        generationConfig,
      })
      expect(response.status).toBe(400)
      expect(response.json().error).toMatchObject({
        status: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/not supported by this upstream/),
      })
    }
    expect(up.kiro.requests.length).toBe(kiroBefore)
    expect(fake.requests.filter((req) => req.route === 'messages')).toEqual([])
  })

  it('every answer above fits the vendor’s own type', () => {
    expect(samples.length).toBeGreaterThanOrEqual(5)
    expect(typeCheck(samples).map((v) => `${v.label}: ${v.message}`)).toEqual([])
  })
})
