// Proves the fakes speak the real wire formats: the official SDKs parse them, and raw reads check the framing.
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import {Agent, fetch as undiciFetch, request} from 'undici'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {
  parseSse,
  startAnthropicFake,
  startGeminiFake,
  startOpenAIFake,
  startResponsesFake,
  toolRoundTrip,
  type Behaviour,
  type FakeUpstream,
  type ReplySpec,
} from './index.js'

// Short keep-alive so pooled sockets never hold the test process open
const agent = new Agent({keepAliveTimeout: 10, keepAliveMaxTimeout: 10})
const sdkFetch = ((input: string | URL, init?: object) =>
  undiciFetch(input, {...init, dispatcher: agent})) as unknown as typeof globalThis.fetch

afterAll(() => agent.close())

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

async function raw(
  url: string,
  init: {method?: string; headers?: Record<string, string>; body?: unknown} = {},
): Promise<RawResponse> {
  const res = await request(url, {
    dispatcher: agent,
    method: (init.method ?? (init.body === undefined ? 'GET' : 'POST')) as 'GET' | 'POST',
    headers: {'content-type': 'application/json', ...init.headers},
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  })
  return {status: res.statusCode, headers: res.headers, text: await res.body.text()}
}

/** Reads a streamed body chunk by chunk, keeping what arrived before any failure */
async function readStream(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{text: string; error?: Error}> {
  const res = await request(url, {
    dispatcher: agent,
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: JSON.stringify(body),
  })
  let text = ''
  try {
    for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8')
    return {text}
  } catch (error) {
    return {text, error: error as Error}
  }
}

const json = (text: string): any => JSON.parse(text)

const openaiClient = (fake: FakeUpstream, apiKey = 'sk-good'): OpenAI =>
  new OpenAI({baseURL: fake.baseUrl, apiKey, maxRetries: 0, fetch: sdkFetch})

const anthropicClient = (fake: FakeUpstream, apiKey = 'sk-ant-good'): Anthropic =>
  new Anthropic({baseURL: fake.baseUrl, apiKey, authToken: null, maxRetries: 0, fetch: sdkFetch})

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  schema: {
    type: 'object',
    properties: {city: {type: 'string'}, unit: {type: 'string', enum: ['c', 'f']}, days: {type: 'integer'}},
    required: ['city', 'unit'],
  },
}

const toolReply: ReplySpec = {
  text: 'Checking 天气 ☀️.',
  toolCalls: [
    {name: 'get_weather', arguments: {city: 'Paris', unit: 'c'}},
    {name: 'get_time', arguments: {zone: 'Europe/Paris', nested: {list: [1, 'zwei', '🌍']}}},
  ],
  usage: {input: 52, output: 17, cached: 10, reasoning: 5},
  chunkSize: 3,
}

describe('openai fake', () => {
  let fake: FakeUpstream
  let client: OpenAI
  beforeAll(async () => {
    fake = await startOpenAIFake({name: 'oa-1', keys: ['sk-good']})
    client = openaiClient(fake)
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it('echoes the last user text in a unary completion', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        {role: 'system', content: 'be brief'},
        {role: 'user', content: [{type: 'text', text: 'héllo 🌍 你好'}]},
      ],
    })
    expect(res.object).toBe('chat.completion')
    expect(res.model).toBe('gpt-4o-mini')
    expect(res.choices[0]?.message.content).toBe('oa-1: héllo 🌍 你好')
    expect(res.choices[0]?.finish_reason).toBe('stop')
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0))
    const rec = fake.requests[0]
    expect(rec).toMatchObject({method: 'POST', path: '/v1/chat/completions', route: 'chat.completions', key: 'sk-good'})
    expect(rec?.body.messages).toHaveLength(2)
    expect(rec?.headers.authorization).toBe('Bearer sk-good')
    expect(fake.completed).toBe(1)
  })

  it('scripts a tool round trip: the call until a tool result arrives, then the final reply', async () => {
    fake.script.handler = toolRoundTrip({id: 'call_fixed', name: 'run', arguments: {cmd: 'ls'}}, (results) => ({
      text: `saw ${results.join('+')}`,
    }))
    const messages: OpenAI.ChatCompletionMessageParam[] = [{role: 'user', content: 'go'}]
    const first = await client.chat.completions.create({model: 'm', messages})
    const call = first.choices[0]?.message.tool_calls?.[0]
    expect(call).toMatchObject({id: 'call_fixed', function: {name: 'run', arguments: '{"cmd":"ls"}'}})
    // Still no tool result: the call again, not the final text.
    const again = await client.chat.completions.create({
      model: 'm',
      messages: [...messages, {role: 'user', content: '?'}],
    })
    expect(again.choices[0]?.message.tool_calls?.[0]?.id).toBe('call_fixed')
    messages.push(first.choices[0]!.message, {role: 'tool', tool_call_id: 'call_fixed', content: 'a b'})
    const final = await client.chat.completions.create({model: 'm', messages})
    expect(final.choices[0]?.message.content).toBe('saw a b')
    expect(final.choices[0]?.message.tool_calls).toBeUndefined()
  })

  it('renders scripted tool calls, usage and finish reasons in unary form', async () => {
    fake.enqueue(
      {kind: 'reply', reply: toolReply},
      {kind: 'reply', reply: {text: 'cut short', stopReason: 'max_tokens'}},
    )
    const res = await client.chat.completions.create({model: 'm', messages: [{role: 'user', content: 'go'}]})
    const msg = res.choices[0]?.message
    expect(res.choices[0]?.finish_reason).toBe('tool_calls')
    expect(msg?.content).toBe('Checking 天气 ☀️.')
    const calls = (msg?.tool_calls ?? []).map((c) =>
      c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : [],
    )
    expect(calls).toEqual([
      ['get_weather', {city: 'Paris', unit: 'c'}],
      ['get_time', {zone: 'Europe/Paris', nested: {list: [1, 'zwei', '🌍']}}],
    ])
    expect(res.usage).toEqual({
      prompt_tokens: 52,
      completion_tokens: 17,
      total_tokens: 69,
      prompt_tokens_details: {cached_tokens: 10},
      completion_tokens_details: {reasoning_tokens: 5},
    })
    const second = await client.chat.completions.create({model: 'm', messages: [{role: 'user', content: 'go'}]})
    expect(second.choices[0]?.finish_reason).toBe('length')
  })

  it('streams tool calls the SDK accumulates, with the usage chunk only when asked', async () => {
    fake.enqueue({kind: 'reply', reply: toolReply})
    const stream = client.chat.completions.stream({
      model: 'm',
      messages: [{role: 'user', content: 'go'}],
      stream_options: {include_usage: true},
    })
    const final = await stream.finalChatCompletion()
    const msg = final.choices[0]?.message
    expect(final.choices[0]?.finish_reason).toBe('tool_calls')
    expect(msg?.content).toBe('Checking 天气 ☀️.')
    expect(msg?.tool_calls?.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments) : null))).toEqual([
      {city: 'Paris', unit: 'c'},
      {zone: 'Europe/Paris', nested: {list: [1, 'zwei', '🌍']}},
    ])
    expect(final.usage?.total_tokens).toBe(69)

    const chunks = []
    for await (const chunk of await client.chat.completions.create({
      model: 'm',
      messages: [{role: 'user', content: 'x'}],
      stream: true,
    })) {
      chunks.push(chunk)
    }
    expect(chunks[0]?.choices[0]?.delta).toEqual({role: 'assistant', content: ''})
    expect(chunks.every((c) => !('usage' in c))).toBe(true)
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
    expect(chunks.at(-1)?.choices[0]).toEqual({index: 0, delta: {}, finish_reason: 'stop'})
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('oa-1: x')
  })

  it('frames SSE exactly: one write per event, usage chunk before [DONE]', async () => {
    fake.enqueue({kind: 'reply', reply: {...toolReply, toolCalls: toolReply.toolCalls?.slice(0, 1)}})
    const {text} = await readStream(
      `${fake.baseUrl}/chat/completions`,
      {model: 'm', messages: [{role: 'user', content: 'go'}], stream: true, stream_options: {include_usage: true}},
      {authorization: 'Bearer sk-good'},
    )
    const {events} = parseSse(text)
    expect(events.at(-1)?.data).toBe('[DONE]')
    const chunks = events.slice(0, -1).map((e) => json(e.data))
    expect(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1)).toBe(true)
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: {prompt_tokens: 52, completion_tokens: 17, total_tokens: 69},
    })
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(toolDeltas[0]).toEqual({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: 'function',
      function: {name: 'get_weather', arguments: ''},
    })
    expect(toolDeltas.slice(1).every((d: {id?: string; index: number}) => d.id === undefined && d.index === 0)).toBe(
      true,
    )
    expect(JSON.parse(toolDeltas.map((d: {function: {arguments: string}}) => d.function.arguments).join(''))).toEqual({
      city: 'Paris',
      unit: 'c',
    })
  })

  it('splits multi-byte text by code points', async () => {
    const text = '你好🌍👋🏽 émoji ✓'
    fake.enqueue({kind: 'reply', reply: {text, chunkSize: 1}})
    const deltas: string[] = []
    for await (const chunk of await client.chat.completions.create({
      model: 'm',
      messages: [{role: 'user', content: 'x'}],
      stream: true,
    })) {
      const d = chunk.choices[0]?.delta.content
      if (d) deltas.push(d)
    }
    expect(deltas).toEqual(Array.from(text))
    expect(deltas.join('')).toBe(text)
  })

  it('emits reasoning_content for thinking', async () => {
    fake.enqueue({kind: 'reply', reply: {thinking: {text: 'hmm', signature: 's'}, text: 'ok'}})
    const {text} = await readStream(
      `${fake.baseUrl}/chat/completions`,
      {model: 'm', messages: [{role: 'user', content: 'go'}], stream: true},
      {authorization: 'Bearer sk-good'},
    )
    const deltas = parseSse(text)
      .events.filter((e) => e.data !== '[DONE]')
      .map((e) => json(e.data).choices[0].delta)
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('hmm')
  })

  it('supports a two-step tool conversation', async () => {
    const tooling = await startOpenAIFake({name: 'oa-tools', callToolsWhenOffered: true})
    try {
      const c = openaiClient(tooling)
      const tools = [{type: 'function' as const, function: {name: weatherTool.name, parameters: weatherTool.schema}}]
      const messages: OpenAI.ChatCompletionMessageParam[] = [{role: 'user', content: 'weather?'}]
      const first = await c.chat.completions.create({model: 'm', messages, tools})
      const call = first.choices[0]?.message.tool_calls?.[0]
      expect(first.choices[0]?.finish_reason).toBe('tool_calls')
      if (call?.type !== 'function') throw new Error('expected a function call')
      expect(JSON.parse(call.function.arguments)).toEqual({city: 'fake-city', unit: 'c'})
      messages.push(first.choices[0]!.message, {role: 'tool', tool_call_id: call.id, content: '21°C'})
      const second = await c.chat.completions.create({model: 'm', messages, tools})
      expect(second.choices[0]?.message.content).toBe('oa-tools: tool result: 21°C')
    } finally {
      await tooling.close()
    }
  })

  it('checks keys and validates requests like the real API', async () => {
    const bad = openaiClient(fake, 'sk-nope')
    await expect(
      bad.chat.completions.create({model: 'm', messages: [{role: 'user', content: 'x'}]}),
    ).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
      type: 'invalid_request_error',
    })
    await expect(
      client.chat.completions.create({model: 'm', messages: [{role: 'tool', tool_call_id: 'call_x', content: 'r'}]}),
    ).rejects.toMatchObject({status: 400})
    await expect(
      client.chat.completions.create({
        model: 'm',
        messages: [
          {role: 'user', content: 'x'},
          {
            role: 'assistant',
            content: null,
            tool_calls: [{id: 'c1', type: 'function', function: {name: 'f', arguments: '{}'}}],
          },
          {role: 'user', content: 'y'},
        ],
      }),
    ).rejects.toMatchObject({status: 400, message: expect.stringContaining('c1')})
    await expect(
      client.chat.completions.create({
        model: 'm',
        messages: [{role: 'user', content: 'x'}],
        stream_options: {include_usage: true},
      }),
    ).rejects.toMatchObject({status: 400, param: 'stream_options'})
    const bogus = await raw(`${fake.baseUrl}/chat/completions`, {
      headers: {authorization: 'Bearer sk-good'},
      body: '{nope',
    })
    expect(bogus.status).toBe(400)
    expect(json(bogus.text).error.type).toBe('invalid_request_error')
    expect(fake.completed).toBe(0)
  })

  it('lists models', async () => {
    const models = []
    for await (const m of client.models.list()) models.push(m.id)
    expect(models).toEqual(['gpt-4o-mini', 'gpt-4o'])
    const limited = await startOpenAIFake({models: ['only-this']})
    try {
      await expect(
        openaiClient(limited).chat.completions.create({model: 'other', messages: [{role: 'user', content: 'x'}]}),
      ).rejects.toMatchObject({
        status: 404,
        code: 'model_not_found',
      })
    } finally {
      await limited.close()
    }
  })

  it('can omit [DONE] and send keep-alive comments', async () => {
    const quirky = await startOpenAIFake({omitDone: true, keepAliveComments: true})
    try {
      const {text} = await readStream(`${quirky.baseUrl}/chat/completions`, {
        model: 'm',
        messages: [{role: 'user', content: 'hi'}],
        stream: true,
      })
      const {events, comments} = parseSse(text)
      expect(events.some((e) => e.data === '[DONE]')).toBe(false)
      expect(comments.length).toBe(events.length)
      expect(comments[0]).toBe('keep-alive')
    } finally {
      await quirky.close()
    }
  })
})

describe('responses fake', () => {
  let fake: FakeUpstream
  let client: OpenAI
  beforeAll(async () => {
    fake = await startResponsesFake({name: 'rs-1', keys: ['sk-good']})
    client = openaiClient(fake)
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it('answers a plain request the SDK reads, echoing the input', async () => {
    const res = await client.responses.create({model: 'gpt-5.4', input: 'héllo 🌍', instructions: 'be brief'})
    expect(res).toMatchObject({object: 'response', status: 'completed', model: 'gpt-5.4', instructions: 'be brief'})
    expect(res.id).toMatch(/^resp_/)
    expect(res.output_text).toBe('rs-1: héllo 🌍')
    expect(res.usage?.total_tokens).toBe((res.usage?.input_tokens ?? 0) + (res.usage?.output_tokens ?? 0))
    expect(fake.requests[0]).toMatchObject({path: '/v1/responses', route: 'responses', key: 'sk-good', stream: false})
  })

  it('streams the typed event grammar the SDK checks, with several tool calls and usage', async () => {
    fake.enqueue({kind: 'reply', reply: {...toolReply, thinking: {text: 'let me see', signature: 'sig-1'}}})
    const stream = client.responses.stream({
      model: 'm',
      input: [{role: 'user', content: [{type: 'input_text', text: 'go'}]}],
      include: ['reasoning.encrypted_content'],
    })
    const types: string[] = []
    const sequence: number[] = []
    for await (const event of stream) {
      types.push(event.type)
      sequence.push(event.sequence_number)
    }
    const final = await stream.finalResponse()
    expect(sequence).toEqual(sequence.map((_, i) => i))
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress'])
    expect(types.at(-1)).toBe('response.completed')
    expect(types).toContain('response.reasoning_summary_text.delta')
    expect(types.filter((t) => t === 'response.function_call_arguments.done')).toHaveLength(2)
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call'])
    expect(final.output[0]).toMatchObject({encrypted_content: 'sig-1', summary: [{text: 'let me see'}]})
    expect(final.output_text).toBe('Checking 天气 ☀️.')
    const calls = final.output.filter((item) => item.type === 'function_call')
    expect(calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['get_weather', {city: 'Paris', unit: 'c'}],
      ['get_time', {zone: 'Europe/Paris', nested: {list: [1, 'zwei', '🌍']}}],
    ])
    expect(new Set(calls.map((c) => c.call_id)).size).toBe(2)
    expect(final.usage).toEqual({
      input_tokens: 52,
      input_tokens_details: {cached_tokens: 10, cache_write_tokens: 0},
      output_tokens: 17,
      output_tokens_details: {reasoning_tokens: 5},
      total_tokens: 69,
    })
  })

  it('frames each event as event: + data: with the type repeated', async () => {
    fake.enqueue({kind: 'reply', reply: {text: 'abcdef', chunkSize: 2, stopReason: 'max_tokens'}})
    const {text} = await readStream(
      `${fake.baseUrl}/responses`,
      {model: 'm', input: 'x', stream: true},
      {authorization: 'Bearer sk-good'},
    )
    const events = parseSse(text).events
    expect(events.every((e) => e.event === json(e.data).type)).toBe(true)
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => json(e.data).delta)).toEqual([
      'ab',
      'cd',
      'ef',
    ])
    expect(json(events.at(-1)!.data).response).toMatchObject({
      status: 'incomplete',
      incomplete_details: {reason: 'max_output_tokens'},
    })
  })

  it('continues only the responses it stored itself, and checks tool results against their calls', async () => {
    fake.enqueue({kind: 'reply', reply: {toolCalls: [{id: 'call_a', name: 'f', arguments: {}}]}})
    const first = await client.responses.create({model: 'm', input: 'one'})
    const next = await client.responses.create({
      model: 'm',
      previous_response_id: first.id,
      input: [{type: 'function_call_output', call_id: 'call_a', output: '42'}],
    })
    expect(next.output_text).toBe('rs-1: tool result: 42')
    const unstored = await client.responses.create({model: 'm', input: 'two', store: false})
    const other = await startResponsesFake({name: 'rs-2'})
    try {
      for (const [c, id] of [
        [openaiClient(other), first.id],
        [client, unstored.id],
        [client, 'resp_made_up'],
      ] as const) {
        await expect(c.responses.create({model: 'm', input: 'x', previous_response_id: id})).rejects.toMatchObject({
          status: 400,
          error: {
            message: `Previous response with id '${id}' not found.`,
            type: 'invalid_request_error',
            param: 'previous_response_id',
            code: 'previous_response_not_found',
          },
        })
      }
    } finally {
      await other.close()
    }
    await expect(
      client.responses.create({model: 'm', input: [{type: 'function_call_output', call_id: 'call_zz', output: '1'}]}),
    ).rejects.toMatchObject({status: 400, message: expect.stringContaining('call_zz')})
    await expect(client.responses.create({model: 'm', input: 'x', max_output_tokens: 1})).rejects.toMatchObject({
      status: 400,
      code: 'integer_below_min_value',
    })
  })

  it('scripts errors, refuses bad keys and streams an error event', async () => {
    fake.enqueue({kind: 'status', status: 429, retryAfter: 3})
    const limited = await raw(`${fake.baseUrl}/responses`, {
      headers: {authorization: 'Bearer sk-good'},
      body: {model: 'm', input: 'x'},
    })
    expect(limited.status).toBe(429)
    expect(limited.headers['retry-after']).toBe('3')
    expect(json(limited.text).error).toMatchObject({type: 'requests', code: 'rate_limit_exceeded'})
    await expect(openaiClient(fake, 'sk-nope').responses.create({model: 'm', input: 'x'})).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    })
    fake.enqueue({kind: 'stream-error', afterEvents: 3, message: 'overloaded'})
    const {text} = await readStream(
      `${fake.baseUrl}/responses`,
      {model: 'm', input: 'x', stream: true},
      {authorization: 'Bearer sk-good'},
    )
    const events = parseSse(text).events
    expect(events).toHaveLength(4)
    expect(events[3]).toMatchObject({event: 'error'})
    expect(json(events[3]!.data)).toEqual({
      type: 'error',
      code: null,
      message: 'overloaded',
      param: null,
      sequence_number: 3,
    })
  })

  it('compacts a conversation and lists models', async () => {
    const compacted = await client.responses.compact({
      model: 'gpt-5.4',
      input: [
        {role: 'user', content: 'first'},
        {role: 'assistant', content: 'ok'},
        {role: 'user', content: [{type: 'input_text', text: 'second'}]},
      ],
    })
    expect(compacted).toMatchObject({object: 'response.compaction', usage: {total_tokens: expect.any(Number)}})
    expect(compacted.output.map((item) => item.type)).toEqual(['message', 'message', 'compaction'])
    expect(compacted.output[1]).toMatchObject({role: 'user', content: [{type: 'input_text', text: 'second'}]})
    expect(fake.requests[0]).toMatchObject({path: '/v1/responses/compact', route: 'responses.compact'})
    const models = []
    for await (const m of client.models.list()) models.push(m.id)
    expect(models).toEqual(['gpt-4o-mini', 'gpt-4o'])
  })
})

describe('anthropic fake', () => {
  let fake: FakeUpstream
  let client: Anthropic
  const thinkingReply: ReplySpec = {
    thinking: {text: 'Let me think… 🤔 about 天气', signature: 'sig-abc=='},
    text: 'Checking.',
    toolCalls: [
      {id: 'toolu_A', name: 'get_weather', arguments: {city: 'Paris', unit: 'c'}},
      {name: 'get_time', arguments: {zone: 'Europe/Paris'}},
    ],
    usage: {input: 52, output: 17, cached: 10},
    chunkSize: 4,
  }
  beforeAll(async () => {
    fake = await startAnthropicFake({name: 'an-1', keys: ['sk-ant-good']})
    client = anthropicClient(fake)
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it('echoes in a unary message, accepting the SDK bearer key', async () => {
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      messages: [{role: 'user', content: 'héllo 🌍'}],
    })
    expect(msg.content).toEqual([{type: 'text', text: 'an-1: héllo 🌍'}])
    expect(msg.stop_reason).toBe('end_turn')
    expect(msg.model).toBe('claude-sonnet-4-6')
    expect(fake.requests[0]?.key).toBe('sk-ant-good')
    expect(fake.requests[0]?.headers['anthropic-version']).toBeTruthy()
  })

  it('renders thinking and tool_use blocks in unary form', async () => {
    fake.enqueue({kind: 'reply', reply: thinkingReply})
    const msg = await client.messages.create({model: 'm', max_tokens: 100, messages: [{role: 'user', content: 'go'}]})
    expect(msg.content).toEqual([
      {type: 'thinking', thinking: 'Let me think… 🤔 about 天气', signature: 'sig-abc=='},
      {type: 'text', text: 'Checking.'},
      {
        type: 'tool_use',
        id: 'toolu_A',
        name: 'get_weather',
        input: {city: 'Paris', unit: 'c'},
        caller: {type: 'direct'},
      },
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_/),
        name: 'get_time',
        input: {zone: 'Europe/Paris'},
        caller: {type: 'direct'},
      },
    ])
    expect(msg.stop_reason).toBe('tool_use')
    expect(msg.usage).toMatchObject({input_tokens: 42, output_tokens: 17, cache_read_input_tokens: 10})
  })

  it('streams thinking and several tool_use blocks the SDK reassembles', async () => {
    fake.enqueue({kind: 'reply', reply: thinkingReply})
    const final = await client.messages
      .stream({model: 'm', max_tokens: 100, messages: [{role: 'user', content: 'go'}]})
      .finalMessage()
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use'])
    expect(final.content[0]).toMatchObject({thinking: 'Let me think… 🤔 about 天气', signature: 'sig-abc=='})
    expect(final.content[2]).toMatchObject({id: 'toolu_A', input: {city: 'Paris', unit: 'c'}})
    expect(final.content[3]).toMatchObject({input: {zone: 'Europe/Paris'}})
    expect(final.stop_reason).toBe('tool_use')
    expect(final.usage.output_tokens).toBe(17)
  })

  it('follows the §2.3 event grammar exactly', async () => {
    fake.enqueue({kind: 'reply', reply: thinkingReply})
    const {text} = await readStream(
      `${fake.url}/v1/messages`,
      {model: 'm', max_tokens: 100, stream: true, messages: [{role: 'user', content: 'go'}]},
      {'x-api-key': 'sk-ant-good', 'anthropic-version': '2023-06-01'},
    )
    const events = parseSse(text).events
    for (const e of events) expect(json(e.data).type).toBe(e.event)
    const names = events.map((e) => e.event)
    expect(names[0]).toBe('message_start')
    expect(names.slice(1, 3)).toEqual(['content_block_start', 'ping'])
    expect(names.slice(-2)).toEqual(['message_delta', 'message_stop'])
    // Blocks open and close in order with contiguous indices, one at a time
    let open = -1
    let next = 0
    for (const e of events.map((x) => json(x.data))) {
      if (e.type === 'content_block_start') {
        expect([open, e.index]).toEqual([-1, next])
        open = e.index
      } else if (e.type === 'content_block_delta') {
        expect(e.index).toBe(open)
      } else if (e.type === 'content_block_stop') {
        expect(e.index).toBe(open)
        open = -1
        next++
      }
    }
    expect(next).toBe(4)
    const data = events.map((x) => json(x.data))
    const thinking = data.filter((d) => d.index === 0 && d.type === 'content_block_delta').map((d) => d.delta)
    expect(thinking.at(-1)).toEqual({type: 'signature_delta', signature: 'sig-abc=='})
    expect(
      thinking
        .slice(0, -1)
        .map((d) => d.thinking)
        .join(''),
    ).toBe('Let me think… 🤔 about 天气')
    const toolDeltas = data.filter((d) => d.index === 2 && d.type === 'content_block_delta').map((d) => d.delta)
    expect(toolDeltas[0]).toEqual({type: 'input_json_delta', partial_json: ''})
    expect(toolDeltas.length).toBeGreaterThan(2)
    expect(data.at(-2)).toEqual({
      type: 'message_delta',
      delta: {stop_reason: 'tool_use', stop_sequence: null},
      usage: {output_tokens: 17},
    })
    expect(data[0].message.usage).toMatchObject({input_tokens: 42, output_tokens: 1, cache_read_input_tokens: 10})
  })

  it('requires a key, anthropic-version and max_tokens', async () => {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'm',
      max_tokens: 10,
      messages: [{role: 'user', content: 'x'}],
    }
    const url = `${fake.url}/v1/messages`
    const ok = await raw(url, {headers: {'x-api-key': 'sk-ant-good', 'anthropic-version': '2023-06-01'}, body})
    expect(ok.status).toBe(200)
    expect(ok.headers['request-id']).toMatch(/^req_/)
    const noVersion = await raw(url, {headers: {'x-api-key': 'sk-ant-good'}, body})
    expect(noVersion.status).toBe(400)
    expect(json(noVersion.text)).toMatchObject({type: 'error', error: {type: 'invalid_request_error'}})
    const badKey = await raw(url, {headers: {'x-api-key': 'nope', 'anthropic-version': '2023-06-01'}, body})
    expect(badKey.status).toBe(401)
    expect(json(badKey.text).error.type).toBe('authentication_error')
    const noMax = await raw(url, {
      headers: {authorization: 'Bearer sk-ant-good', 'anthropic-version': 'x'},
      body: {...body, max_tokens: undefined},
    })
    expect(noMax.status).toBe(400)
    expect(json(noMax.text).error.message).toBe('max_tokens: Field required')
    await expect(anthropicClient(fake, 'wrong').messages.create(body)).rejects.toMatchObject({status: 401})
  })

  it('validates tool pairing and thinking replay', async () => {
    const toolTurn: Anthropic.MessageParam = {
      role: 'assistant',
      content: [{type: 'tool_use', id: 'toolu_1', name: 'f', input: {}}],
    }
    await expect(
      client.messages.create({
        model: 'm',
        max_tokens: 10,
        messages: [{role: 'user', content: 'x'}, toolTurn, {role: 'user', content: 'no result'}],
      }),
    ).rejects.toMatchObject({status: 400, message: expect.stringContaining('toolu_1')})
    const withResult: Anthropic.MessageParam[] = [
      {role: 'user', content: 'x'},
      toolTurn,
      {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_1', content: 'r'}]},
    ]
    await expect(
      client.messages.create({
        model: 'm',
        max_tokens: 2000,
        thinking: {type: 'enabled', budget_tokens: 1024},
        messages: withResult,
      }),
    ).rejects.toMatchObject({status: 400, message: expect.stringContaining('Expected `thinking`')})
    await expect(
      client.messages.create({
        model: 'm',
        max_tokens: 1000,
        thinking: {type: 'enabled', budget_tokens: 1024},
        messages: [{role: 'user', content: 'x'}],
      }),
    ).rejects.toMatchObject({status: 400})
    const ok = await client.messages.create({model: 'm', max_tokens: 10, messages: withResult})
    expect(ok.content).toEqual([{type: 'text', text: 'an-1: tool result: r'}])
  })

  it('runs a two-step tool conversation with thinking replayed', async () => {
    const tooling = await startAnthropicFake({name: 'an-tools', callToolsWhenOffered: true})
    try {
      const c = anthropicClient(tooling)
      tooling.script.handler = (_req, n) =>
        n === 0
          ? {
              kind: 'reply',
              reply: {
                thinking: {text: 'need weather', signature: 'sig1'},
                toolCalls: [{name: 'get_weather', arguments: {city: 'Oslo', unit: 'c'}}],
              },
            }
          : undefined
      const tools = [{name: weatherTool.name, input_schema: weatherTool.schema as Anthropic.Tool.InputSchema}]
      const params = {model: 'm', max_tokens: 4000, thinking: {type: 'enabled' as const, budget_tokens: 2000}, tools}
      const messages: Anthropic.MessageParam[] = [{role: 'user', content: 'weather?'}]
      const first = await c.messages.stream({...params, messages}).finalMessage()
      const use = first.content.find((b) => b.type === 'tool_use')
      if (use?.type !== 'tool_use') throw new Error('expected tool_use')
      messages.push(
        {role: 'assistant', content: first.content},
        {role: 'user', content: [{type: 'tool_result', tool_use_id: use.id, content: '-3°C'}]},
      )
      const second = await c.messages.create({...params, messages})
      expect(second.content).toEqual([{type: 'text', text: 'an-tools: tool result: -3°C'}])
      expect(tooling.calls('messages')[1]?.body.messages[1].content[0]).toEqual({
        type: 'thinking',
        thinking: 'need weather',
        signature: 'sig1',
      })
    } finally {
      await tooling.close()
    }
  })

  it('counts tokens and lists models', async () => {
    const count = await client.messages.countTokens({model: 'm', messages: [{role: 'user', content: 'count me'}]})
    expect(count.input_tokens).toBeGreaterThan(0)
    const page = await client.models.list()
    expect(page.data.map((m) => m.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5'])
    expect(page.data[0]?.type).toBe('model')
    expect(fake.calls('count_tokens')).toHaveLength(1)
  })

  it('reports an in-stream error event the SDK raises', async () => {
    fake.enqueue({kind: 'stream-error', afterEvents: 3})
    const stream = client.messages.stream({model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'x'}]})
    await expect(stream.finalMessage()).rejects.toMatchObject({type: 'overloaded_error'})
  })
})

describe('gemini fake', () => {
  let fake: FakeUpstream
  const gen = (model = 'gemini-2.5-flash', method = 'generateContent'): string =>
    `${fake.baseUrl}/v1beta/models/${model}:${method}`
  const key = {'x-goog-api-key': 'AIza-good'}
  beforeAll(async () => {
    fake = await startGeminiFake({name: 'gm-1', keys: ['AIza-good']})
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it('answers generateContent with either key form', async () => {
    const body = {contents: [{role: 'user', parts: [{text: 'héllo 🌍'}]}]}
    const a = await raw(gen(), {headers: key, body})
    const b = await raw(`${gen()}?key=AIza-good`, {body})
    for (const res of [a, b]) {
      expect(res.status).toBe(200)
      const r = json(res.text)
      expect(r.candidates[0]).toEqual({
        content: {role: 'model', parts: [{text: 'gm-1: héllo 🌍'}]},
        finishReason: 'STOP',
        index: 0,
      })
      expect(r.usageMetadata.totalTokenCount).toBe(
        r.usageMetadata.promptTokenCount + r.usageMetadata.candidatesTokenCount,
      )
      expect(r.modelVersion).toBe('gemini-2.5-flash')
    }
    expect(fake.requests.map((r) => [r.key, r.model, r.path])).toEqual([
      ['AIza-good', 'gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
      ['AIza-good', 'gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
    ])
  })

  it('renders thoughts, function calls with the signature, and usage', async () => {
    fake.enqueue({kind: 'reply', reply: {...toolReply, thinking: {text: 'hmm', signature: 'sig=='}}})
    const r = json((await raw(gen(), {headers: key, body: {contents: [{parts: [{text: 'go'}]}]}})).text)
    expect(r.candidates[0].content.parts).toEqual([
      {text: 'hmm', thought: true},
      {text: 'Checking 天气 ☀️.'},
      {functionCall: {name: 'get_weather', args: {city: 'Paris', unit: 'c'}}, thoughtSignature: 'sig=='},
      {functionCall: {name: 'get_time', args: {zone: 'Europe/Paris', nested: {list: [1, 'zwei', '🌍']}}}},
    ])
    expect(r.candidates[0].finishReason).toBe('STOP')
    expect(r.usageMetadata).toEqual({
      promptTokenCount: 52,
      candidatesTokenCount: 12,
      totalTokenCount: 69,
      cachedContentTokenCount: 10,
      thoughtsTokenCount: 5,
    })
  })

  it('streams SSE with CRLF, no [DONE], finishReason and usage on the last chunk', async () => {
    fake.enqueue({kind: 'reply', reply: {text: '你好🌍👋🏽 world', chunkSize: 2, usage: {input: 40, output: 8}}})
    const {text} = await readStream(
      `${gen(undefined, 'streamGenerateContent')}?alt=sse`,
      {contents: [{role: 'user', parts: [{text: 'x'}]}]},
      key,
    )
    expect(text).toContain('\r\n\r\n')
    expect(text).not.toContain('[DONE]')
    const chunks = parseSse(text).events.map((e) => json(e.data))
    expect(chunks.length).toBe(6)
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join('')).toBe('你好🌍👋🏽 world')
    expect(chunks.slice(0, -1).every((c) => c.candidates[0].finishReason === undefined)).toBe(true)
    expect(chunks.at(-1)).toMatchObject({
      candidates: [{finishReason: 'STOP'}],
      usageMetadata: {promptTokenCount: 40, candidatesTokenCount: 8, totalTokenCount: 48},
    })
    expect(fake.requests[0]?.stream).toBe(true)
  })

  it('streams a JSON array without alt=sse', async () => {
    fake.enqueue({kind: 'reply', reply: {text: 'abcdef', chunkSize: 2}})
    const res = await raw(gen(undefined, 'streamGenerateContent'), {
      headers: key,
      body: {contents: [{parts: [{text: 'x'}]}]},
    })
    expect(res.headers['content-type']).toBe('application/json')
    const arr = json(res.text)
    expect(
      arr.map((c: {candidates: {content: {parts: {text: string}[]}}[]}) => c.candidates[0]?.content.parts[0]?.text),
    ).toEqual(['ab', 'cd', 'ef'])
  })

  it('supports a two-step function-call conversation, snake_case included', async () => {
    const tooling = await startGeminiFake({name: 'gm-tools', callToolsWhenOffered: true})
    try {
      const tools = [{function_declarations: [{name: weatherTool.name, parameters: weatherTool.schema}]}]
      const contents: unknown[] = [{role: 'user', parts: [{text: 'weather?'}]}]
      const first = json((await raw(`${tooling.url}/v1beta/models/g:generateContent`, {body: {contents, tools}})).text)
      const call = first.candidates[0].content.parts[0].functionCall
      expect(call).toEqual({name: 'get_weather', args: {city: 'fake-city', unit: 'c'}})
      contents.push(first.candidates[0].content, {
        role: 'user',
        parts: [{function_response: {name: call.name, response: {tempC: 21}}}],
      })
      const second = json((await raw(`${tooling.url}/v1beta/models/g:generateContent`, {body: {contents, tools}})).text)
      expect(second.candidates[0].content.parts[0].text).toBe('gm-tools: tool result: {"tempC":21}')
    } finally {
      await tooling.close()
    }
  })

  it('rejects bad keys, unknown fields and unbalanced function turns like the real API', async () => {
    const body = {contents: [{role: 'user', parts: [{text: 'x'}]}]}
    const missing = await raw(gen(), {body})
    expect(missing.status).toBe(403)
    expect(json(missing.text).error.status).toBe('PERMISSION_DENIED')
    const bad = await raw(gen(), {headers: {'x-goog-api-key': 'nope'}, body})
    expect(bad.status).toBe(400)
    expect(json(bad.text).error.details[0].reason).toBe('API_KEY_INVALID')
    const schema = {...weatherTool.schema, additionalProperties: false}
    const unknown = await raw(gen(), {
      headers: key,
      body: {...body, tools: [{functionDeclarations: [{name: 'f', parameters: schema}]}]},
    })
    expect(unknown.status).toBe(400)
    expect(json(unknown.text).error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message: expect.stringContaining('"additionalProperties"'),
    })
    const unbalanced = await raw(gen(), {
      headers: key,
      body: {
        contents: [
          {role: 'user', parts: [{text: 'x'}]},
          {role: 'model', parts: [{functionCall: {name: 'a', args: {}}}, {functionCall: {name: 'b', args: {}}}]},
          {role: 'user', parts: [{functionResponse: {name: 'a', response: {}}}]},
        ],
      },
    })
    expect(unbalanced.status).toBe(400)
    const badRole = await raw(gen(), {headers: key, body: {contents: [{role: 'assistant', parts: [{text: 'x'}]}]}})
    expect(badRole.status).toBe(400)
    expect(fake.completed).toBe(0)
  })

  it('counts tokens and lists models', async () => {
    const count = await raw(gen(undefined, 'countTokens'), {
      headers: key,
      body: {contents: [{parts: [{text: 'count me'}]}]},
    })
    expect(json(count.text).totalTokens).toBeGreaterThan(0)
    const models = json((await raw(`${fake.url}/v1beta/models?key=AIza-good`)).text)
    expect(models.models[0]).toMatchObject({
      name: 'models/gemini-2.5-flash',
      supportedGenerationMethods: expect.arrayContaining(['generateContent']),
    })
  })
})

describe.each([
  ['openai', startOpenAIFake, 'rate_limit_exceeded'],
  ['anthropic', startAnthropicFake, 'rate_limit_error'],
  ['gemini', startGeminiFake, 'RESOURCE_EXHAUSTED'],
] as const)('%s fake behaviours', (protocol, start, rateLimitTag) => {
  let fake: FakeUpstream
  const target = (stream = false): {url: string; body: Record<string, unknown>; headers: Record<string, string>} => {
    if (protocol === 'openai') {
      return {
        url: `${fake.baseUrl}/chat/completions`,
        body: {model: 'm', stream, messages: [{role: 'user', content: 'ping'}]},
        headers: {},
      }
    }
    if (protocol === 'anthropic') {
      return {
        url: `${fake.url}/v1/messages`,
        body: {model: 'm', max_tokens: 10, stream, messages: [{role: 'user', content: 'ping'}]},
        headers: {'anthropic-version': '2023-06-01'},
      }
    }
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent'
    return {
      url: `${fake.url}/v1beta/models/g:${method}`,
      body: {contents: [{role: 'user', parts: [{text: 'ping'}]}]},
      headers: {},
    }
  }
  const send = (stream = false, signal?: AbortSignal): ReturnType<typeof request> => {
    const t = target(stream)
    return request(t.url, {
      dispatcher: agent,
      method: 'POST',
      headers: {'content-type': 'application/json', ...t.headers},
      body: JSON.stringify(t.body),
      signal,
    })
  }
  const streamed = (): Promise<{text: string; error?: Error}> => {
    const t = target(true)
    return readStream(t.url, t.body, t.headers)
  }

  beforeAll(async () => {
    fake = await start({name: `${protocol}-b`})
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it('answers a status in the protocol error shape with a retry hint', async () => {
    fake.enqueue({kind: 'status', status: 429, retryAfter: 7})
    const res = await send()
    expect(res.statusCode).toBe(429)
    const text = await res.body.text()
    expect(text).toContain(rateLimitTag)
    if (protocol === 'gemini') {
      expect(json(text).error.details).toEqual([
        {'@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s'},
      ])
    } else {
      expect(res.headers['retry-after']).toBe('7')
    }
    if (protocol === 'openai') expect(json(text).error.message).toContain('try again in 7s')
    fake.enqueue({kind: 'status', status: 503, body: {custom: true}, headers: {'x-extra': '1'}})
    const custom = await send()
    expect([custom.statusCode, custom.headers['x-extra'], await custom.body.json()]).toEqual([503, '1', {custom: true}])
    expect(fake.requests.map((r) => r.outcome)).toEqual(['error', 'error'])
  })

  it('consumes the queue, then the handler, then the fallback', async () => {
    fake.enqueue({kind: 'status', status: 500})
    fake.script.handler = (_req, n) => (n === 1 ? {kind: 'status', status: 502} : undefined)
    fake.script.fallback = {kind: 'reply', reply: {text: 'fallback'}}
    const statuses = []
    for (let i = 0; i < 3; i++) {
      const res = await send()
      await res.body.text()
      statuses.push(res.statusCode)
    }
    expect(statuses).toEqual([500, 502, 200])
    expect(fake.count).toBe(3)
    expect(fake.completed).toBe(1)
  })

  it('hangs until the client gives up, counting the abort', async () => {
    fake.enqueue({kind: 'hang'})
    await expect(send(false, AbortSignal.timeout(100))).rejects.toThrow()
    await fake.waitFor(() => fake.aborted === 1)
    expect(fake.requests[0]?.outcome).toBe('aborted')
    expect(fake.completed).toBe(0)
  })

  it('releases hung requests on close()', async () => {
    const lonely = await start({script: {fallback: {kind: 'hang'}}})
    const t0 = Date.now()
    const t = target()
    const hung = request(t.url.replace(fake.url, lonely.url), {
      dispatcher: agent,
      method: 'POST',
      headers: {'content-type': 'application/json', ...t.headers},
      body: JSON.stringify(t.body),
    }).catch((e: unknown) => e)
    await lonely.waitFor(() => lonely.count === 1)
    await lonely.close()
    expect(await hung).toBeInstanceOf(Error)
    expect(lonely.requests[0]?.outcome).toBe('destroyed')
    expect(lonely.aborted).toBe(0)
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('resets the connection before headers', async () => {
    fake.enqueue({kind: 'destroy'})
    await expect(send()).rejects.toThrow()
    expect(fake.requests[0]?.outcome).toBe('destroyed')
    expect(fake.aborted).toBe(0)
  })

  it('cuts a stream after n events, delivering exactly those', async () => {
    fake.enqueue({kind: 'cut', afterEvents: 2, reply: {text: 'abcdefgh', chunkSize: 1}})
    const {text, error} = await streamed()
    expect(error).toBeInstanceOf(Error)
    const events = parseSse(text).events
    expect(events).toHaveLength(2)
    fake.enqueue({kind: 'cut', afterEvents: 0})
    const unary = await send()
    expect(unary.statusCode).toBe(200)
    await expect(unary.body.text()).rejects.toThrow()
    expect(fake.aborted).toBe(0)
    expect(fake.completed).toBe(0)
  })

  it('reports an error inside the stream after n events', async () => {
    fake.enqueue({kind: 'stream-error', afterEvents: 1, message: 'boom'})
    const {text, error} = await streamed()
    expect(error).toBeUndefined()
    const events = parseSse(text).events
    expect(events).toHaveLength(2)
    const last = json(events[1]?.data ?? '')
    expect(JSON.stringify(last)).toContain('boom')
    if (protocol === 'anthropic') expect(events[1]?.event).toBe('error')
    expect(fake.completed).toBe(1)
  })

  it('delays, then behaves', async () => {
    fake.enqueue({kind: 'delay', ms: 150, then: {kind: 'status', status: 503}})
    const t0 = Date.now()
    const res = await send()
    await res.body.text()
    expect(res.statusCode).toBe(503)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
  })

  it('sends raw bytes', async () => {
    fake.enqueue({kind: 'raw', status: 502, headers: {'content-type': 'text/html'}, body: '<html>Bad Gateway</html>'})
    const res = await send()
    expect([res.statusCode, res.headers['content-type'], await res.body.text()]).toEqual([
      502,
      'text/html',
      '<html>Bad Gateway</html>',
    ])
  })

  it('counts a client that leaves a paced stream early as aborted', async () => {
    const paced = await start({paceMs: 40})
    try {
      const t = target(true)
      const res = await request(t.url.replace(fake.url, paced.url), {
        dispatcher: agent,
        method: 'POST',
        headers: {'content-type': 'application/json', ...t.headers},
        body: JSON.stringify({...t.body}),
      })
      for await (const chunk of res.body) {
        expect((chunk as Buffer).length).toBeGreaterThan(0)
        break
      }
      await paced.waitFor(() => paced.aborted === 1)
      expect(paced.completed).toBe(0)
      expect(paced.requests[0]?.outcome).toBe('aborted')
    } finally {
      await paced.close()
    }
  })

  it('scripts auxiliary routes separately and reset() clears everything', async () => {
    fake.script.aux = () => ({kind: 'status', status: 500})
    const models =
      protocol === 'openai'
        ? `${fake.baseUrl}/models`
        : protocol === 'anthropic'
          ? `${fake.url}/v1/models`
          : `${fake.url}/v1beta/models`
    const res = await raw(models, {headers: protocol === 'anthropic' ? {'anthropic-version': '2023-06-01'} : {}})
    expect(res.status).toBe(500)
    fake.enqueue({kind: 'hang'} satisfies Behaviour)
    fake.reset()
    expect([fake.count, fake.requests.length, fake.script.queue.length, fake.script.aux]).toEqual([0, 0, 0, undefined])
    const ok = await raw(models, {headers: protocol === 'anthropic' ? {'anthropic-version': '2023-06-01'} : {}})
    expect(ok.status).toBe(200)
  })
})
