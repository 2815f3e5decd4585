import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseSse, startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let openaiFake: FakeUpstream
let anthropicFake: FakeUpstream
let proxy: TestProxy

const reply = {
  text: 'Bonjour, 世界 🌍! The answer is 42.',
  usage: {input: 21, output: 13},
  chunkSize: 3,
}

beforeAll(async () => {
  openaiFake = await startOpenAIFake({
    name: 'oa',
    keys: ['sk-oa-0123456789abcdef'],
    script: {fallback: {kind: 'reply', reply}},
  })
  anthropicFake = await startAnthropicFake({
    name: 'an',
    keys: ['sk-ant-an-0123456789'],
    script: {fallback: {kind: 'reply', reply}},
  })
  proxy = await startTestProxy(
    {
      'openai-custom': [openaiInstance(openaiFake, 'oa', 'sk-oa-0123456789abcdef')],
      'claude-custom': [claudeInstance(anthropicFake, 'an', 'sk-ant-an-0123456789')],
    },
    {apiKey: 'client-secret-key'},
  )
})

afterAll(async () => {
  await proxy.cleanup()
  await openaiFake.close()
  await anthropicFake.close()
})

const openaiClient = (prefix: string) =>
  new OpenAI({apiKey: 'client-secret-key', baseURL: `${proxy.url}${prefix}/v1`, maxRetries: 0})
const anthropicClient = (prefix: string) =>
  new Anthropic({apiKey: 'client-secret-key', baseURL: `${proxy.url}${prefix}`, maxRetries: 0})

describe.each([
  {label: 'same protocol', prefix: '/openai-custom', fake: () => openaiFake},
  {label: 'converted from Anthropic', prefix: '/claude-custom', fake: () => anthropicFake},
])('openai SDK, $label', ({prefix, fake}) => {
  it('non-streaming: content, finish reason, usage', async () => {
    const completion = await openaiClient(prefix).chat.completions.create({
      model: 'gpt-test',
      messages: [
        {role: 'system', content: 'Be brief.'},
        {role: 'user', content: 'Hello'},
      ],
      max_tokens: 100,
    })
    expect(completion.choices[0]!.message.content).toBe(reply.text)
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(completion.usage).toMatchObject({prompt_tokens: 21, completion_tokens: 13, total_tokens: 34})
    const seen = fake().requests.at(-1)!
    expect(JSON.stringify(seen.body)).toContain('Be brief.')
    expect(seen.key).not.toBe('client-secret-key')
  })

  it('streaming: text deltas reassemble, finish reason and usage chunk', async () => {
    const stream = await openaiClient(prefix).chat.completions.create({
      model: 'gpt-test',
      messages: [{role: 'user', content: 'Hello'}],
      stream: true,
      stream_options: {include_usage: true},
    })
    let text = ''
    let finish: string | null = null
    let usage: OpenAI.CompletionUsage | undefined
    const ids = new Set<string>()
    for await (const chunk of stream) {
      ids.add(chunk.id)
      text += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      usage = chunk.usage ?? usage
    }
    expect(text).toBe(reply.text)
    expect(finish).toBe('stop')
    expect(usage).toMatchObject({prompt_tokens: 21, completion_tokens: 13})
    expect(ids.size).toBe(1)
  })
})

describe.each([
  {label: 'same protocol', prefix: '/claude-custom', fake: () => anthropicFake},
  {label: 'converted from OpenAI', prefix: '/openai-custom', fake: () => openaiFake},
])('anthropic SDK, $label', ({prefix, fake}) => {
  it('non-streaming: content, stop reason, usage', async () => {
    const message = await anthropicClient(prefix).messages.create({
      model: 'claude-test',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [
        {role: 'user', content: 'Hello'},
        {role: 'assistant', content: 'Hi!'},
        {role: 'user', content: 'Again'},
      ],
    })
    expect(message.content).toEqual([expect.objectContaining({type: 'text', text: reply.text})])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage).toMatchObject({input_tokens: 21, output_tokens: 13})
    const seen = fake().requests.at(-1)!
    expect(JSON.stringify(seen.body)).toContain('Be brief.')
    expect(JSON.stringify(seen.body)).toContain('Again')
  })

  it('streaming: the SDK assembles the final message', async () => {
    const stream = anthropicClient(prefix).messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{role: 'user', content: 'Hello'}],
    })
    let deltas = ''
    stream.on('text', (t) => (deltas += t))
    const message = await stream.finalMessage()
    expect(deltas).toBe(reply.text)
    expect(message.content).toEqual([expect.objectContaining({type: 'text', text: reply.text})])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage.output_tokens).toBe(13)
  })
})

it('rejects a client without the key in its own protocol', async () => {
  const bad = new OpenAI({apiKey: 'wrong', baseURL: `${proxy.url}/v1`, maxRetries: 0})
  await expect(
    bad.chat.completions.create({model: 'm', messages: [{role: 'user', content: 'x'}]}),
  ).rejects.toMatchObject({status: 401})
  const badAnthropic = new Anthropic({apiKey: 'wrong', baseURL: proxy.url, maxRetries: 0})
  await expect(
    badAnthropic.messages.create({model: 'm', max_tokens: 5, messages: [{role: 'user', content: 'x'}]}),
  ).rejects.toMatchObject({
    status: 401,
    error: {type: 'error', error: {type: 'authentication_error'}},
  })
})

describe.each(['openai-custom', 'claude-custom'])('Gemini REST client over %s', (type) => {
  it('generateContent answers with the upstream text, finish reason and usage', async () => {
    const r = await post(
      `${proxy.url}/${type}/v1beta/models/gemini-test:generateContent`,
      {contents: [{role: 'user', parts: [{text: 'Hello'}]}]},
      {'x-goog-api-key': 'client-secret-key'},
    )
    expect(r.status).toBe(200)
    const body = r.json()
    expect(body.candidates[0].content).toEqual({role: 'model', parts: [{text: reply.text}]})
    expect(body.candidates[0].finishReason).toBe('STOP')
    expect(body.usageMetadata).toMatchObject({promptTokenCount: 21, candidatesTokenCount: 13, totalTokenCount: 34})
  })

  it('streamGenerateContent?alt=sse streams data: objects that reassemble the text', async () => {
    const r = await post(
      `${proxy.url}/${type}/v1beta/models/gemini-test:streamGenerateContent?alt=sse&key=client-secret-key`,
      {contents: [{role: 'user', parts: [{text: 'Hello'}]}]},
    )
    expect(r.status).toBe(200)
    const chunks = parseSse(r.text).events.map((e) => JSON.parse(e.data))
    expect(
      chunks
        .map((c) => c.candidates?.[0]?.content?.parts?.map((p: {text?: string}) => p.text ?? '').join('') ?? '')
        .join(''),
    ).toBe(reply.text)
    expect(chunks.at(-1).candidates[0].finishReason).toBe('STOP')
    expect(chunks.at(-1).usageMetadata).toMatchObject({promptTokenCount: 21, candidatesTokenCount: 13})
  })
})
