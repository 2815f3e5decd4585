// Nothing silently dropped: what a client sends or an upstream answers either reaches the other side in its
// protocol's terms or fails in the client's protocol; never a success that pretends.
import {describe, expect, it} from 'vitest'
import {convertStream, decodeStream, eventReads} from '../../../test/fixtures/codecs/run-stream.js'
import {parseSse} from '../../../test/fixtures/codecs/validate-stream.js'
import {encodeFrame} from '../../../test/fakes/kiro-frames.js'
import {codecs} from './index.js'
import type {IRRequest, IRStreamEvent} from './ir.js'
import {encodeKiroRequest} from './kiro/request.js'
import {createKiroStreamDecoder} from './kiro/stream.js'
import type {Protocol} from './types.js'

type Json = Record<string, any>
type Target = Protocol | 'kiro'

function encodeFor(to: Target, ir: IRRequest, dropped: string[] = []): Json {
  const onDropped = (field: string) => dropped.push(field)
  if (to === 'kiro') return encodeKiroRequest(ir, {conversationId: 'c', modelId: 'm', onDropped}).body
  return codecs[to].encodeRequest(ir, {onDropped}) as Json
}

function convertRequest(from: Protocol, to: Target, body: Json): {out: Json; dropped: string[]} {
  const dropped: string[] = []
  const ir = codecs[from].decodeRequest(body, {onDropped: (field) => dropped.push(field)})
  return {out: encodeFor(to, ir, dropped), dropped}
}

const clients: Protocol[] = ['openai', 'anthropic', 'gemini', 'responses']

function sse(chunks: Json[], done = true): string {
  return chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('') + (done ? 'data: [DONE]\n\n' : '')
}

function openAIChunk(delta: Json, finish: string | null = null): Json {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'up',
    choices: [{index: 0, delta, finish_reason: finish}],
  }
}

// The text a client reads from a stream in its protocol.
function streamedText(protocol: Protocol, out: string): string {
  const events = parseSse(out).flatMap((event) => (event.data === '[DONE]' ? [] : [JSON.parse(event.data) as Json]))
  return events
    .map((event) => {
      if (protocol === 'openai') return event.choices?.[0]?.delta?.content ?? ''
      if (protocol === 'anthropic') return event.type === 'content_block_delta' ? (event.delta.text ?? '') : ''
      if (protocol === 'gemini')
        return (event.candidates?.[0]?.content?.parts ?? []).map((p: Json) => p.text ?? '').join('')
      return event.type === 'response.output_text.delta' ? event.delta : ''
    })
    .join('')
}

// The text a client reads from a plain answer in its protocol.
function answerText(protocol: Protocol, body: Json): string {
  if (protocol === 'openai') return body.choices[0].message.content ?? ''
  if (protocol === 'anthropic') return body.content.map((block: Json) => block.text ?? '').join('')
  if (protocol === 'gemini') return body.candidates[0].content.parts.map((part: Json) => part.text ?? '').join('')
  return body.output
    .flatMap((item: Json) => item.content ?? [])
    .map((part: Json) => part.text ?? '')
    .join('')
}

describe('d. an OpenAI refusal', () => {
  const refusal = 'I cannot help with that.'
  const stream = sse([
    openAIChunk({role: 'assistant', content: null, refusal: ''}),
    openAIChunk({refusal: 'I cannot '}),
    openAIChunk({refusal: 'help with that.'}),
    openAIChunk({}, 'stop'),
  ])
  const plain = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'up',
    choices: [{index: 0, message: {role: 'assistant', content: null, refusal}, finish_reason: 'stop'}],
    usage: {prompt_tokens: 3, completion_tokens: 5},
  }

  it.each(clients.filter((client) => client !== 'openai'))('reaches %s clients streamed as unstreamed', (client) => {
    const unstreamed = answerText(client, codecs[client].encodeResponse(codecs.openai.decodeResponse(plain)) as Json)
    expect(unstreamed).toBe(refusal)
    expect(streamedText(client, convertStream('openai', client, eventReads(stream)))).toBe(refusal)
  })
})

describe('f. an OpenAI tool call whose id or name comes late', () => {
  const call = (fragment: Json) => openAIChunk({tool_calls: [{index: 0, ...fragment}]})
  const shapes: [string, Json[]][] = [
    [
      'name in a chunk of its own',
      [
        call({id: 'call_1', type: 'function', function: {arguments: ''}}),
        call({function: {name: 'get_weather'}}),
        call({function: {arguments: '{"city":'}}),
        call({function: {arguments: '"Paris"}'}}),
      ],
    ],
    [
      'name after the first arguments',
      [
        call({id: 'call_1', type: 'function', function: {arguments: '{"city":'}}),
        call({function: {name: 'get_weather', arguments: '"Paris"}'}}),
      ],
    ],
    [
      'id after the name',
      [
        call({type: 'function', function: {name: 'get_weather', arguments: ''}}),
        call({id: 'call_1', function: {arguments: '{"city":"Paris"}'}}),
      ],
    ],
    [
      'name given as "" first',
      [
        call({id: 'call_1', function: {name: '', arguments: ''}}),
        call({function: {name: 'get_weather', arguments: '{"city":"Paris"}'}}),
      ],
    ],
  ]

  it.each(shapes)('%s: one whole call', (_, chunks) => {
    const events = decodeStream('openai', eventReads(sse([...chunks, openAIChunk({}, 'tool_calls')])))
    const starts = events.filter((event) => event.type === 'block_start')
    expect(starts).toEqual([{type: 'block_start', index: 0, kind: 'tool_call', id: 'call_1', name: 'get_weather'}])
    const json = events.flatMap((event) => (event.type === 'tool_input_delta' ? [event.json] : [])).join('')
    expect(JSON.parse(json)).toEqual({city: 'Paris'})
    expect(events.at(-1)).toMatchObject({type: 'message_end', stopReason: 'tool_use'})
  })

  it('a call whose id never comes gets one, in its place before later content', () => {
    const events = decodeStream(
      'openai',
      eventReads(
        sse([
          call({function: {name: 'get_weather', arguments: '{}'}}),
          openAIChunk({tool_calls: [{index: 1, id: 'call_2', function: {name: 'get_time', arguments: '{}'}}]}),
          openAIChunk({}, 'tool_calls'),
        ]),
      ),
    )
    const starts = events.filter((event) => event.type === 'block_start')
    expect(starts.map((event) => event.name)).toEqual(['get_weather', 'get_time'])
    expect(starts[0]?.id).toMatch(/^call_/)
  })

  const nameless = sse([
    call({id: 'call_1', type: 'function', function: {arguments: '{}'}}),
    openAIChunk({}, 'tool_calls'),
  ])

  it('a call without a name is the stream failing, not a tool_use without a name', () => {
    const events = decodeStream('openai', eventReads(nameless))
    expect(events.some((event) => event.type === 'block_start')).toBe(false)
    expect(events.at(-1)).toMatchObject({
      type: 'error',
      status: 502,
      message: expect.stringMatching(/without a function name/),
    })
  })

  it.each(clients)('a call without a name reaches %s clients as the protocol error event', (client) => {
    const out = convertStream('openai', client, eventReads(nameless))
    const last = parseSse(out).at(-1)!
    expect(JSON.stringify(JSON.parse(last.data))).toMatch(/without a function name/)
    if (client === 'anthropic') expect(last.event).toBe('error')
    expect(out).not.toMatch(/"name":""/)
  })

  it('a plain answer with a call without a name is not passed on', () => {
    const body = {
      choices: [
        {
          index: 0,
          message: {role: 'assistant', tool_calls: [{id: 'c', type: 'function', function: {arguments: '{}'}}]},
          finish_reason: 'tool_calls',
        },
      ],
    }
    expect(() => codecs.openai.decodeResponse(body)).toThrow(/without a function name/)
  })
})

describe('i. an upstream 529 (Anthropic overloaded)', () => {
  const overloaded = {type: 'error', message: 'Overloaded', kind: 'overloaded', status: 529} as const

  it('is 503 UNAVAILABLE for Gemini clients, in an answer and in a stream', () => {
    expect(codecs.gemini.errorBody(529, 'Overloaded')).toEqual({
      error: {code: 503, message: 'Overloaded', status: 'UNAVAILABLE'},
    })
    const out = codecs.gemini.createStreamEncoder({model: 'm'}).encode([{type: 'message_start'}, overloaded])
    expect(JSON.parse(parseSse(out).at(-1)!.data)).toEqual({
      error: {code: 503, message: 'Overloaded', status: 'UNAVAILABLE'},
    })
  })

  it('stays overloaded_error for Anthropic clients', () => {
    expect(codecs.anthropic.errorBody(529, 'Overloaded')).toMatchObject({error: {type: 'overloaded_error'}})
  })
})

describe('e. is_error on an Anthropic tool_result', () => {
  const loop = (content: unknown) => ({
    model: 'm',
    max_tokens: 10,
    messages: [
      {role: 'user', content: 'read it'},
      {role: 'assistant', content: [{type: 'tool_use', id: 'toolu_1', name: 'read_file', input: {}}]},
      {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_1', content, is_error: true}]},
    ],
  })
  const read: [Target, (out: Json) => unknown, unknown][] = [
    ['openai', (out) => out.messages[2], {role: 'tool', tool_call_id: 'toolu_1', content: 'Error: ENOENT'}],
    [
      'responses',
      (out) => out.input.at(-1),
      {type: 'function_call_output', call_id: 'toolu_1', output: 'Error: ENOENT'},
    ],
    ['gemini', (out) => out.contents[2].parts[0].functionResponse.response, {error: 'ENOENT'}],
    [
      'kiro',
      (out) => out.conversationState.currentMessage.userInputMessage.userInputMessageContext.toolResults[0],
      {toolUseId: 'toolu_1', content: [{text: 'ENOENT'}], status: 'error'},
    ],
  ]

  it.each(read)('survives to %s', (to, pick, expected) => {
    const {out, dropped} = convertRequest('anthropic', to, loop('ENOENT'))
    expect(pick(out)).toEqual(expected)
    expect(dropped).not.toContain('tool_result.is_error')
  })

  it('a failed call without text still says it failed to OpenAI, and text that says so is not said twice', () => {
    expect(convertRequest('anthropic', 'openai', loop([])).out.messages[2].content).toBe('Error')
    expect(convertRequest('anthropic', 'openai', loop('Error: ENOENT')).out.messages[2].content).toBe('Error: ENOENT')
  })

  it('a Gemini {error} response reaches OpenAI marked too', () => {
    const body = {
      contents: [
        {role: 'user', parts: [{text: 'read it'}]},
        {role: 'model', parts: [{functionCall: {id: 'c1', name: 'read_file', args: {}}}]},
        {role: 'user', parts: [{functionResponse: {id: 'c1', name: 'read_file', response: {error: 'ENOENT'}}}]},
      ],
    }
    const {out} = convertRequest('gemini', 'openai', {...body, model: 'm'})
    expect(out.messages[2]).toEqual({role: 'tool', tool_call_id: 'c1', content: 'Error: ENOENT'})
  })
})

describe('h. the model name', () => {
  const answer = {
    model: 'client-model',
    content: [{type: 'text' as const, text: 'hi'}],
    stopReason: 'end_turn' as const,
  }
  const usage = {inputTokens: 1, outputTokens: 1}
  const modelOf = (protocol: Protocol, body: Json): unknown =>
    protocol === 'gemini' ? body.modelVersion : (body.model ?? body.message?.model ?? body.response?.model)

  it.each(clients)('%s: a stream names the client’s model wherever the plain answer does', (client) => {
    const plain = codecs[client].encodeResponse({...answer, usage}) as Json
    expect(modelOf(client, plain)).toBe('client-model')
    const encoder = codecs[client].createStreamEncoder({model: 'client-model', includeUsage: true})
    const out = encoder.encode([
      {type: 'message_start', id: 'x', model: 'upstream-model-2024'},
      {type: 'block_start', index: 0, kind: 'text'},
      {type: 'text_delta', index: 0, text: 'hi'},
      {type: 'block_stop', index: 0},
      {type: 'message_end', stopReason: 'end_turn', usage},
    ])
    const named = parseSse(out)
      .filter((event) => event.data !== '[DONE]')
      .map((event) => modelOf(client, JSON.parse(event.data) as Json))
      .filter((model) => model !== undefined)
    expect(named.length).toBeGreaterThan(0)
    expect(new Set(named)).toEqual(new Set(['client-model']))
  })
})

describe('g. input tokens in Anthropic’s message_start', () => {
  function messageStartUsage(events: IRStreamEvent[]): Json {
    const out = codecs.anthropic.createStreamEncoder({model: 'm'}).encode(events)
    const start = parseSse(out).find((event) => event.event === 'message_start')!
    return (JSON.parse(start.data) as Json).message.usage
  }

  it('come from Gemini’s usageMetadata in the first chunk', () => {
    const first = {
      candidates: [{content: {role: 'model', parts: [{text: 'Hel'}]}, index: 0}],
      usageMetadata: {promptTokenCount: 42, candidatesTokenCount: 1, totalTokenCount: 43},
      modelVersion: 'gemini-2.5-flash',
      responseId: 'r1',
    }
    const events = codecs.gemini
      .createStreamDecoder()
      .push(new TextEncoder().encode(`data: ${JSON.stringify(first)}\n\n`))
    expect(messageStartUsage(events)).toMatchObject({input_tokens: 42, output_tokens: 0})
  })

  const kiroFrames = (before: Record<string, unknown>[]) =>
    Buffer.concat(
      [...before, {assistantResponseEvent: {content: 'Hello'}}].map((frame) => {
        const [eventType, payload] = Object.entries(frame)[0]!
        return encodeFrame({messageType: 'event', eventType: eventType!, payload})
      }),
    )

  it.each([
    [
      'metadataEvent.tokenUsage',
      {metadataEvent: {tokenUsage: {uncachedInputTokens: 30, cacheReadInputTokens: 12}}},
      30,
    ],
    ['contextUsageEvent', {contextUsageEvent: {contextUsagePercentage: 1}}, 2000],
  ])('come from Kiro’s %s before the answer', (_, frame, input) => {
    const events = createKiroStreamDecoder({model: 'claude-sonnet-4-5'}).push(kiroFrames([frame]))
    expect(events[0]).toMatchObject({
      type: 'message_start',
      model: 'claude-sonnet-4-5',
      id: expect.stringMatching(/^msg_/),
    })
    expect(messageStartUsage(events).input_tokens).toBe(input)
  })

  it('are 0 in message_start when Kiro reports nothing before the answer', () => {
    const events = createKiroStreamDecoder({model: 'claude-sonnet-4-5'}).push(kiroFrames([]))
    expect(messageStartUsage(events).input_tokens).toBe(0)
  })
})

describe('c. structured output', () => {
  const schema = {
    type: 'object',
    properties: {answer: {type: 'string'}},
    required: ['answer'],
    additionalProperties: false,
  }
  const toAnthropic: [string, Protocol, Json][] = [
    [
      'OpenAI response_format json_schema',
      'openai',
      {
        model: 'm',
        messages: [{role: 'user', content: 'x'}],
        response_format: {type: 'json_schema', json_schema: {name: 'a', schema, strict: true}},
      },
    ],
    [
      'Gemini responseSchema',
      'gemini',
      {
        model: 'm',
        contents: [{role: 'user', parts: [{text: 'x'}]}],
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: {type: 'OBJECT', properties: {answer: {type: 'STRING'}}, required: ['answer']},
        },
      },
    ],
    [
      'Gemini responseJsonSchema',
      'gemini',
      {
        model: 'm',
        contents: [{role: 'user', parts: [{text: 'x'}]}],
        generationConfig: {responseMimeType: 'application/json', responseJsonSchema: schema},
      },
    ],
    [
      'Responses text.format json_schema',
      'responses',
      {model: 'm', input: 'x', text: {format: {type: 'json_schema', name: 'a', schema, strict: true}}},
    ],
  ]

  it.each(toAnthropic)('%s becomes Anthropic’s output_config.format', (_, from, body) => {
    const format = convertRequest(from, 'anthropic', body).out.output_config.format
    expect(format.type).toBe('json_schema')
    expect(format.schema).toMatchObject({type: 'object', properties: {answer: {type: 'string'}}, required: ['answer']})
  })

  const anthropic = {
    model: 'm',
    max_tokens: 10,
    messages: [{role: 'user', content: 'x'}],
    output_config: {format: {type: 'json_schema', schema}},
  }
  const back: [Target, (out: Json) => unknown, unknown][] = [
    ['openai', (out) => out.response_format, {type: 'json_schema', json_schema: {name: 'response', schema}}],
    ['responses', (out) => out.text.format, {type: 'json_schema', name: 'response', schema}],
    [
      'gemini',
      (out) => out.generationConfig,
      {
        maxOutputTokens: 10,
        responseMimeType: 'application/json',
        responseSchema: {type: 'object', properties: {answer: {type: 'string'}}, required: ['answer']},
      },
    ],
  ]

  it.each(back)('Anthropic’s output_config.format reaches %s', (to, pick, expected) => {
    expect(pick(convertRequest('anthropic', to, anthropic).out)).toEqual(expected)
  })

  const jsonMode: [string, Protocol, Json][] = [
    [
      'OpenAI json_object',
      'openai',
      {model: 'm', messages: [{role: 'user', content: 'x'}], response_format: {type: 'json_object'}},
    ],
    [
      'Gemini responseMimeType without a schema',
      'gemini',
      {
        model: 'm',
        contents: [{role: 'user', parts: [{text: 'x'}]}],
        generationConfig: {responseMimeType: 'application/json'},
      },
    ],
    ['Responses json_object', 'responses', {model: 'm', input: 'x', text: {format: {type: 'json_object'}}}],
  ]

  it.each(jsonMode)('%s is a 400 for an Anthropic upstream, which needs a schema', (_, from, body) => {
    expect(() => convertRequest(from, 'anthropic', body)).toThrow(
      expect.objectContaining({status: 400, message: expect.stringMatching(/need a JSON schema/)}),
    )
  })
})

describe('a, b. several answers and log probabilities', () => {
  const targets: Target[] = ['openai', 'anthropic', 'gemini', 'responses', 'kiro']
  const refusing: Target[] = ['anthropic', 'responses', 'kiro']
  const asks: [string, Protocol, Json, RegExp][] = [
    ['OpenAI n: 2', 'openai', {model: 'm', messages: [{role: 'user', content: 'x'}], n: 2}, /Several answers/],
    [
      'Gemini candidateCount: 2',
      'gemini',
      {model: 'm', contents: [{parts: [{text: 'x'}]}], generationConfig: {candidateCount: 2}},
      /Several answers/,
    ],
    [
      'OpenAI logprobs',
      'openai',
      {model: 'm', messages: [{role: 'user', content: 'x'}], logprobs: true, top_logprobs: 3},
      /Log probabilities/,
    ],
    [
      'Gemini responseLogprobs',
      'gemini',
      {model: 'm', contents: [{parts: [{text: 'x'}]}], generationConfig: {responseLogprobs: true, logprobs: 3}},
      /Log probabilities/,
    ],
  ]

  for (const [name, from, body, message] of asks) {
    it.each(refusing)(`${name} converted for %s is a 400, not one answer without them`, (to) => {
      expect(() => convertRequest(from, to, body)).toThrow(
        expect.objectContaining({status: 400, message: expect.stringMatching(message)}),
      )
    })
  }

  // OpenAI chat completions and Gemini both have them: the other one's request asks for them.
  const mapped: [string, Protocol, Protocol, (out: Json) => Json, Json][] = [
    ['OpenAI n: 2', 'gemini', 'openai', (out) => out.generationConfig, {candidateCount: 2}],
    ['Gemini candidateCount: 2', 'openai', 'gemini', (out) => out, {n: 2}],
    ['OpenAI logprobs', 'gemini', 'openai', (out) => out.generationConfig, {responseLogprobs: true, logprobs: 3}],
    ['Gemini responseLogprobs', 'openai', 'gemini', (out) => out, {logprobs: true, top_logprobs: 3}],
  ]

  it.each(mapped)('%s converted for %s is asked for there', (name, to, from, pick, asked) => {
    const body = asks.find(([ask]) => ask === name)![2]
    const {out, dropped} = convertRequest(from, to, body)
    expect(pick(out)).toMatchObject(asked)
    expect(dropped).toEqual([])
  })

  // A converted stream carries one answer: its log probabilities map, several answers cannot.
  it.each(mapped)('%s converted for %s streamed', (name, to, from, pick, asked) => {
    const body = asks.find(([ask]) => ask === name)![2]
    const streamed = {...codecs[from].decodeRequest(body), stream: true}
    if (/n: 2|candidateCount/.test(name)) {
      expect(() => encodeFor(to, streamed)).toThrow(
        expect.objectContaining({
          status: 400,
          message: expect.stringMatching(/Several answers at once .* cannot be streamed through this upstream/),
        }),
      )
    } else expect(pick(encodeFor(to, streamed))).toMatchObject(asked)
  })

  it('one answer (n: 1, candidateCount: 1) and logprobs: false ask for nothing', () => {
    const openai = {model: 'm', messages: [{role: 'user', content: 'x'}], n: 1, logprobs: false}
    const gemini = {model: 'm', contents: [{parts: [{text: 'x'}]}], generationConfig: {candidateCount: 1}}
    for (const to of targets) {
      const fromOpenAI = convertRequest('openai', to, openai)
      const fromGemini = convertRequest('gemini', to, gemini)
      expect(fromOpenAI.dropped).toEqual([])
      expect(fromGemini.dropped).toEqual([])
      expect(JSON.stringify([fromOpenAI.out, fromGemini.out])).not.toMatch(/"n"|candidateCount|logprobs/i)
    }
  })
})

describe('j. cache_control', () => {
  const mark = {type: 'ephemeral'}
  const openai = {
    model: 'm',
    messages: [
      {role: 'system', content: [{type: 'text', text: 'sys', cache_control: mark}]},
      {
        role: 'user',
        content: [
          {type: 'image_url', image_url: {url: 'data:image/png;base64,AAA'}, cache_control: mark},
          {type: 'text', text: 'long prompt', cache_control: {type: 'ephemeral', ttl: '1h'}},
        ],
      },
    ],
  }

  it('on an OpenAI client’s content parts reaches an Anthropic upstream', () => {
    const {out, dropped} = convertRequest('openai', 'anthropic', openai)
    expect(out.system).toEqual([{type: 'text', text: 'sys', cache_control: mark}])
    expect(out.messages[0].content).toEqual([
      {type: 'image', source: {type: 'base64', media_type: 'image/png', data: 'AAA'}, cache_control: mark},
      {type: 'text', text: 'long prompt', cache_control: {type: 'ephemeral', ttl: '1h'}},
    ])
    expect(dropped).not.toContain('cache_control')
  })

  it.each(['gemini', 'responses', 'kiro', 'openai'] as const)(
    'is reported dropped for %s, which cannot carry it',
    (to) => {
      const {out, dropped} = convertRequest('openai', to, openai)
      expect(JSON.stringify(out)).not.toContain('ephemeral')
      expect(dropped).toContain('cache_control')
    },
  )

  it('from an Anthropic client is reported dropped for Kiro', () => {
    const anthropic = {
      model: 'm',
      max_tokens: 10,
      system: [{type: 'text', text: 'sys', cache_control: mark}],
      messages: [{role: 'user', content: 'x'}],
    }
    expect(convertRequest('anthropic', 'kiro', anthropic).dropped).toContain('cache_control')
  })

  it('without marks, a single system text stays a string and nothing is reported', () => {
    const plain = {
      model: 'm',
      messages: [
        {role: 'system', content: 'sys'},
        {role: 'user', content: 'x'},
      ],
    }
    const {out, dropped} = convertRequest('openai', 'anthropic', plain)
    expect(out.system).toBe('sys')
    expect(dropped).toEqual([])
  })
})
