import OpenAI from 'openai'
import {afterEach, describe, expect, it} from 'vitest'
import {parseSse, streamProblems} from '../../../../test/fixtures/codecs/validate-stream.js'
import {serveAnswer, type AnswerServer} from '../../../../test/helpers/answer-server.js'
import type {IRStreamEvent, IRUsage} from '../ir.js'
import type {StreamEncoderOptions} from '../types.js'
import {responsesStreamErrorEvent} from './errors.js'
import {createResponsesStreamDecoder} from './stream-decode.js'
import {createResponsesStreamEncoder} from './stream-encode.js'

const bytes = (text: string) => new TextEncoder().encode(text)
type Json = Record<string, any>

// A request as Codex sends one: a plain function, a free-text custom tool and a namespace of functions.
const request = {
  model: 'gpt-5-codex',
  input: 'hi',
  instructions: 'Be brief.',
  store: false,
  reasoning: {effort: 'high', summary: 'auto'},
  tools: [
    {type: 'function', name: 'get_weather', parameters: {type: 'object', properties: {city: {type: 'string'}}}},
    {type: 'custom', name: 'apply_patch', format: {type: 'grammar', syntax: 'lark', definition: 'start: /.+/'}},
    {type: 'namespace', name: 'mcp', tools: [{type: 'function', name: 'search', parameters: {type: 'object'}}]},
  ],
}

const usage: IRUsage = {inputTokens: 10, outputTokens: 20, cachedInputTokens: 3, reasoningTokens: 5}

// Text, signed thinking, a function call, a custom tool call and a namespaced call, in small fragments.
const fullAnswer: IRStreamEvent[] = [
  {type: 'message_start', id: 'resp_up', model: 'up'},
  {type: 'block_start', index: 0, kind: 'thinking'},
  {type: 'thinking_delta', index: 0, text: 'Let me '},
  {type: 'thinking_delta', index: 0, text: 'think'},
  {type: 'signature_delta', index: 0, signature: 'sig-1'},
  {type: 'block_stop', index: 0},
  {type: 'block_start', index: 1, kind: 'text'},
  {type: 'text_delta', index: 1, text: 'Hello '},
  {type: 'text_delta', index: 1, text: '🌍'},
  {type: 'block_stop', index: 1},
  {type: 'block_start', index: 2, kind: 'tool_call', id: 'call_1', name: 'get_weather'},
  {type: 'tool_input_delta', index: 2, json: '{"city":'},
  {type: 'tool_input_delta', index: 2, json: '"Paris"}'},
  {type: 'block_stop', index: 2},
  {type: 'block_start', index: 3, kind: 'tool_call', id: 'call_2', name: 'apply_patch'},
  {type: 'tool_input_delta', index: 3, json: '{"input":"*** Begin Patch\\n'},
  {type: 'tool_input_delta', index: 3, json: '*** End Patch"}'},
  {type: 'block_stop', index: 3},
  {type: 'block_start', index: 4, kind: 'tool_call', id: 'call_3', name: 'mcp__search'},
  {type: 'tool_input_delta', index: 4, json: '{"q":"x"}'},
  {type: 'block_stop', index: 4},
  {type: 'message_end', stopReason: 'tool_use', usage},
]

// The items a Responses client must end up with for fullAnswer.
const fullOutput = [
  {type: 'reasoning', summary: [{type: 'summary_text', text: 'Let me think'}], encrypted_content: 'sig-1'},
  {
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{type: 'output_text', text: 'Hello 🌍', annotations: [], logprobs: []}],
  },
  {type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}'},
  {
    type: 'custom_tool_call',
    status: 'completed',
    call_id: 'call_2',
    name: 'apply_patch',
    input: '*** Begin Patch\n*** End Patch',
  },
  {
    type: 'function_call',
    status: 'completed',
    call_id: 'call_3',
    name: 'search',
    namespace: 'mcp',
    arguments: '{"q":"x"}',
  },
]

const fullUsage = {
  input_tokens: 10,
  input_tokens_details: {cached_tokens: 3, cache_write_tokens: 0},
  output_tokens: 20,
  output_tokens_details: {reasoning_tokens: 5},
  total_tokens: 30,
}

// Encoded one encode() call per event, as the proxy relays upstream reads.
function encode(events: IRStreamEvent[], opts: Partial<StreamEncoderOptions> = {request}): string {
  const encoder = createResponsesStreamEncoder({model: 'client-model', ...opts})
  return events.map((event) => encoder.encode([event])).join('') + encoder.finish()
}

function payloads(text: string): Json[] {
  return parseSse(text).map((event) => JSON.parse(event.data) as Json)
}

function decode(reads: Uint8Array[], onDropped?: (field: string) => void): IRStreamEvent[] {
  const decoder = createResponsesStreamDecoder({onDropped})
  return [...reads.flatMap((read) => decoder.push(read)), ...decoder.end()]
}

// Upstream typed events, numbered in order.
function upstream(...events: Json[]): string {
  return events
    .map((event, i) => `event: ${event.type}\ndata: ${JSON.stringify({...event, sequence_number: i})}\n\n`)
    .join('')
}

const created = {type: 'response.created', response: {id: 'resp_u', model: 'up', status: 'in_progress', output: []}}
const completed = (extra: Json = {}) => ({
  type: 'response.completed',
  response: {id: 'resp_u', status: 'completed', output: [], usage: {input_tokens: 1, output_tokens: 2}, ...extra},
})

describe('Responses stream encoder', () => {
  const text = (index: number, ...parts: string[]): IRStreamEvent[] => [
    {type: 'block_start', index, kind: 'text'},
    ...parts.map((part): IRStreamEvent => ({type: 'text_delta', index, text: part})),
    {type: 'block_stop', index},
  ]
  const cases: Array<[string, IRStreamEvent[]]> = [
    ['all item kinds', fullAnswer],
    ['text only', [{type: 'message_start'}, ...text(0, 'a', 'b'), {type: 'message_end', stopReason: 'end_turn'}]],
    [
      'redacted thinking and an empty thinking block',
      [
        {type: 'message_start'},
        {type: 'block_start', index: 0, kind: 'redacted_thinking', data: 'opaque'},
        {type: 'block_stop', index: 0},
        {type: 'block_start', index: 1, kind: 'thinking'},
        {type: 'block_stop', index: 1},
        {type: 'message_end', stopReason: 'end_turn'},
      ],
    ],
    [
      'calls without arguments and a custom call with empty input',
      [
        {type: 'message_start'},
        {type: 'block_start', index: 0, kind: 'tool_call', id: 'c1', name: 'get_weather'},
        {type: 'block_stop', index: 0},
        {type: 'block_start', index: 1, kind: 'tool_call', id: 'c2', name: 'apply_patch'},
        {type: 'tool_input_delta', index: 1, json: '{"input":""}'},
        {type: 'block_stop', index: 1},
        {type: 'message_end', stopReason: 'tool_use'},
      ],
    ],
    ['a stream left unfinished', [{type: 'message_start'}, {type: 'block_start', index: 0, kind: 'text'}]],
    ['nothing at all', []],
    [
      'message_end while a block is open',
      [...text(0, 'x').slice(0, 2), {type: 'message_end', stopReason: 'max_tokens'}],
    ],
    [
      'an error in the middle of an item',
      [...text(0, 'x').slice(0, 2), {type: 'error', message: 'Overloaded', kind: 'overloaded', status: 529}],
    ],
  ]

  it.each(cases)('%s: the full typed grammar, sequence numbers 0, 1, 2, …', (_, events) => {
    const out = encode(events)
    expect(streamProblems('responses', out)).toEqual([])
    const numbers = payloads(out).map((payload) => payload.sequence_number as number)
    expect(numbers).toEqual(numbers.map((_n, i) => i))
  })

  it('gives every item back in the order of the IR blocks, as the client declared its tools', () => {
    const out = payloads(encode(fullAnswer))
    const final = out.at(-1)!
    expect(final.type).toBe('response.completed')
    expect(final.response.output).toMatchObject(fullOutput)
    expect(final.response.usage).toEqual(fullUsage)
    expect(final.response.output.map((item: Json) => item.id)).toEqual([
      expect.stringMatching(/^rs_[0-9a-f]{32}$/),
      expect.stringMatching(/^msg_[0-9a-f]{32}$/),
      expect.stringMatching(/^fc_[0-9a-f]{32}$/),
      expect.stringMatching(/^ctc_[0-9a-f]{32}$/),
      expect.stringMatching(/^fc_[0-9a-f]{32}$/),
    ])
    expect(out.filter((event) => event.type === 'response.custom_tool_call_input.delta')).toEqual([
      expect.objectContaining({delta: '*** Begin Patch\n*** End Patch', output_index: 3}),
    ])
    // The response echoes the request's settings and keeps the upstream's id.
    expect(final.response).toMatchObject({
      id: 'resp_up',
      model: 'client-model',
      status: 'completed',
      instructions: 'Be brief.',
      store: false,
      reasoning: {effort: 'high', summary: 'auto'},
      tools: request.tools,
    })
  })

  it('names the function of an undeclared tool as the IR does, without a request', () => {
    const final = payloads(encode(fullAnswer, {})).at(-1)!
    expect(final.response.output[3]).toMatchObject({type: 'function_call', name: 'apply_patch'})
    expect(final.response.output[4]).toMatchObject({type: 'function_call', name: 'mcp__search'})
  })

  it.each([
    ['max_tokens', 'response.incomplete', {reason: 'max_output_tokens'}],
    ['content_filter', 'response.incomplete', {reason: 'content_filter'}],
    ['end_turn', 'response.completed', null],
    ['stop_sequence', 'response.completed', null],
  ] as const)('a %s stop ends with %s', (stopReason, type, details) => {
    const final = payloads(encode([{type: 'message_end', stopReason}])).at(-1)!
    expect(final.type).toBe(type)
    expect(final.response.incomplete_details).toEqual(details)
    expect(final.response.status).toBe(type === 'response.completed' ? 'completed' : 'incomplete')
  })

  it.each([
    [429, 'rate_limit_exceeded'],
    [500, 'server_error'],
    [529, 'server_error'],
    [502, 'server_error'],
    [400, 'invalid_prompt'],
    [401, 'invalid_prompt'],
  ])('an IR error with status %s ends with response.failed and an error event with code %s', (status, code) => {
    const out = payloads(
      encode([...fullAnswer.slice(0, 8), {type: 'error', message: 'Try again in 2s', kind: 'server', status}]),
    )
    const [failed, error] = out.slice(-2)
    expect(failed).toMatchObject({
      type: 'response.failed',
      response: {status: 'failed', error: {code, message: 'Try again in 2s'}},
    })
    // Only the finished reasoning item is part of the failed response.
    expect(failed!.response.output).toHaveLength(1)
    expect(error).toMatchObject({type: 'error', code, message: 'Try again in 2s', param: null})
    expect(error!.error).toMatchObject({code, message: 'Try again in 2s'})
  })

  it('writes nothing once the response ended', () => {
    const encoder = createResponsesStreamEncoder({model: 'm'})
    encoder.encode([{type: 'message_end', stopReason: 'end_turn'}])
    expect(encoder.encode([{type: 'text_delta', index: 0, text: 'late'}])).toBe('')
    expect(encoder.finish()).toBe('')
  })

  it('prefers the id the proxy chose and otherwise makes a resp_ id', () => {
    const withId = createResponsesStreamEncoder({model: 'm', id: 'resp_proxy'})
    expect(payloads(withId.finish())[0]!.response.id).toBe('resp_proxy')
    expect(payloads(encode([]))[0]!.response.id).toMatch(/^resp_[0-9a-f]{32}$/)
  })

  it("gives the proxy's own error event the shape of the encoder's", () => {
    const [event] = parseSse(responsesStreamErrorEvent('Upstream stream failed: reset', 502))
    expect(event!.event).toBe('error')
    expect(JSON.parse(event!.data)).toEqual({
      type: 'error',
      code: 'server_error',
      message: 'Upstream stream failed: reset',
      param: null,
      error: {message: 'Upstream stream failed: reset', type: 'server_error', param: null, code: 'server_error'},
    })
  })
})

describe('Responses stream decoder', () => {
  const item = (outputIndex: number, value: Json, done = false) => ({
    type: done ? 'response.output_item.done' : 'response.output_item.added',
    output_index: outputIndex,
    item: value,
  })
  const at = (type: string, outputIndex: number, extra: Json) => ({
    type,
    item_id: 'x',
    output_index: outputIndex,
    ...extra,
  })
  const start: IRStreamEvent = {type: 'message_start', id: 'resp_u', model: 'up'}
  const end = (stopReason: string, extra: Json = {}): IRStreamEvent =>
    ({type: 'message_end', stopReason, usage: {inputTokens: 1, outputTokens: 2}, ...extra}) as IRStreamEvent

  const cases: Array<[string, string, IRStreamEvent[]]> = [
    [
      'custom tool input as fragments of {"input": text}',
      upstream(
        created,
        item(0, {type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: ''}),
        at('response.custom_tool_call_input.delta', 0, {delta: 'say "hi"\n'}),
        at('response.custom_tool_call_input.delta', 0, {delta: '🌍'}),
        at('response.custom_tool_call_input.done', 0, {input: 'say "hi"\n🌍'}),
        item(0, {type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: 'say "hi"\n🌍'}, true),
        completed(),
      ),
      [
        start,
        {type: 'block_start', index: 0, kind: 'tool_call', id: 'c1', name: 'apply_patch'},
        {type: 'tool_input_delta', index: 0, json: '{"input":"'},
        {type: 'tool_input_delta', index: 0, json: 'say \\"hi\\"\\n'},
        {type: 'tool_input_delta', index: 0, json: '🌍'},
        {type: 'tool_input_delta', index: 0, json: '"}'},
        {type: 'block_stop', index: 0},
        end('tool_use'),
      ],
    ],
    [
      'reasoning summary parts joined by a blank line, encrypted content as the signature',
      upstream(
        created,
        item(0, {type: 'reasoning', summary: []}),
        at('response.reasoning_summary_part.added', 0, {summary_index: 0}),
        at('response.reasoning_summary_text.delta', 0, {summary_index: 0, delta: 'One'}),
        at('response.reasoning_summary_part.added', 0, {summary_index: 1}),
        at('response.reasoning_summary_text.delta', 0, {summary_index: 1, delta: 'Two'}),
        item(0, {type: 'reasoning', summary: [], encrypted_content: 'enc'}, true),
        completed({incomplete_details: {reason: 'content_filter'}, status: 'incomplete'}),
      ),
      [
        start,
        {type: 'block_start', index: 0, kind: 'thinking'},
        {type: 'thinking_delta', index: 0, text: 'One'},
        {type: 'thinking_delta', index: 0, text: '\n\n'},
        {type: 'thinking_delta', index: 0, text: 'Two'},
        {type: 'signature_delta', index: 0, signature: 'enc'},
        {type: 'block_stop', index: 0},
        end('content_filter'),
      ],
    ],
    [
      'reasoning with only encrypted content, a namespaced call and usage details',
      upstream(
        created,
        item(0, {type: 'reasoning', summary: []}),
        item(0, {type: 'reasoning', summary: [], encrypted_content: 'enc'}, true),
        item(1, {type: 'function_call', call_id: 'c2', name: 'search', namespace: 'mcp', arguments: ''}),
        item(1, {type: 'function_call', call_id: 'c2', name: 'search', namespace: 'mcp', arguments: '{"q":1}'}, true),
        completed({
          usage: {
            input_tokens: 9,
            input_tokens_details: {cached_tokens: 4},
            output_tokens: 7,
            output_tokens_details: {reasoning_tokens: 5},
          },
        }),
      ),
      [
        start,
        {type: 'block_start', index: 0, kind: 'redacted_thinking', data: 'enc'},
        {type: 'block_stop', index: 0},
        {type: 'block_start', index: 1, kind: 'tool_call', id: 'c2', name: 'mcp__search'},
        {type: 'tool_input_delta', index: 1, json: '{"q":1}'},
        {type: 'block_stop', index: 1},
        {
          type: 'message_end',
          stopReason: 'tool_use',
          usage: {inputTokens: 9, outputTokens: 7, cachedInputTokens: 4, reasoningTokens: 5},
        },
      ],
    ],
    [
      'only a final response, from a server that sends no item events',
      upstream(
        created,
        completed({
          status: 'incomplete',
          incomplete_details: {reason: 'max_output_tokens'},
          output: [{type: 'message', content: [{type: 'output_text', text: 'Hi'}]}],
        }),
      ),
      [
        start,
        {type: 'block_start', index: 0, kind: 'text'},
        {type: 'text_delta', index: 0, text: 'Hi'},
        {type: 'block_stop', index: 0},
        end('max_tokens'),
      ],
    ],
    [
      'a failed response, after text',
      upstream(
        created,
        item(0, {type: 'message', content: []}),
        at('response.output_text.delta', 0, {delta: 'par'}),
        {type: 'response.failed', response: {status: 'failed', error: {code: 'rate_limit_exceeded', message: 'Slow'}}},
        at('response.output_text.delta', 0, {delta: 'ignored'}),
      ),
      [
        start,
        {type: 'block_start', index: 0, kind: 'text'},
        {type: 'text_delta', index: 0, text: 'par'},
        {type: 'error', message: 'Slow', kind: 'rate_limit', status: 429},
      ],
    ],
    [
      'a stream cut before its terminal event',
      upstream(created, item(0, {type: 'message', content: []}), at('response.output_text.delta', 0, {delta: 'par'})),
      [
        start,
        {type: 'block_start', index: 0, kind: 'text'},
        {type: 'text_delta', index: 0, text: 'par'},
        {type: 'block_stop', index: 0},
        {type: 'error', message: 'upstream stream ended before completion', kind: 'server', status: 502},
      ],
    ],
  ]

  it.each(cases)('%s', (_, text, expected) => {
    const data = bytes(text)
    expect(decode([data])).toEqual(expected)
    for (let cut = 0; cut <= data.length; cut++) {
      expect(decode([data.subarray(0, cut), data.subarray(cut)])).toEqual(expected)
    }
  })

  it.each([
    ['rate_limit_exceeded', 429],
    ['insufficient_quota', 429],
    ['server_error', 500],
    ['server_is_overloaded', 503],
    ['context_length_exceeded', 400],
    ['invalid_prompt', 400],
  ])('a response.failed with code %s is an IR error with status %s', (code, status) => {
    const failed = {type: 'response.failed', response: {status: 'failed', error: {code, message: 'm'}}}
    expect(decode([bytes(upstream(created, failed))]).at(-1)).toMatchObject({type: 'error', status, message: 'm'})
  })

  it('reads error events in the nested form the API sends and the flat form its reference documents', () => {
    const nested = {type: 'error', error: {type: 'tokens', code: 'rate_limit_exceeded', message: 'Nested', param: null}}
    const flat = {type: 'error', code: 'server_error', message: 'Flat', param: null}
    expect(decode([bytes(upstream(created, nested))]).at(-1)).toEqual({
      type: 'error',
      message: 'Nested',
      kind: 'rate_limit',
      status: 429,
    })
    expect(decode([bytes(upstream(flat))])).toEqual([{type: 'error', message: 'Flat', kind: 'server', status: 500}])
  })

  it('reports items the IR cannot carry and reasoning without content', () => {
    const dropped: string[] = []
    const events = decode(
      [
        bytes(
          upstream(
            created,
            item(0, {type: 'web_search_call', status: 'in_progress'}),
            {type: 'response.web_search_call.searching', output_index: 0},
            item(1, {type: 'reasoning', summary: []}),
            item(1, {type: 'reasoning', summary: []}, true),
            completed(),
          ),
        ),
      ],
      (field) => dropped.push(field),
    )
    expect(events).toEqual([start, end('end_turn')])
    expect(dropped).toEqual([
      'output.web_search_call',
      'event.response.web_search_call.searching',
      'reasoning without summary',
    ])
  })

  it('decodes what the encoder wrote back into the same events', () => {
    // Custom tool input is sent whole once complete, so it comes back as one fragment of {"input": …}.
    const customInput = ['{"input":"', '*** Begin Patch\\n*** End Patch', '"}'].map((json): IRStreamEvent => ({
      type: 'tool_input_delta',
      index: 3,
      json,
    }))
    const expected = fullAnswer.flatMap((event): IRStreamEvent[] => {
      if (event.type === 'message_start') return [{...event, model: 'client-model'}]
      if (event.type === 'tool_input_delta' && event.index === 3) return []
      if (event.type === 'block_stop' && event.index === 3) return [...customInput, event]
      return [event]
    })
    expect(decode([bytes(encode(fullAnswer))])).toEqual(expected)
  })
})

describe('the openai SDK reads our streams', () => {
  let server: AnswerServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  async function sdkStream(events: IRStreamEvent[]) {
    server = await serveAnswer(encode(events), 'text/event-stream')
    const client = new OpenAI({baseURL: server.baseURL, apiKey: 'x', maxRetries: 0})
    return client.responses.stream(request as unknown as OpenAI.Responses.ResponseCreateParamsStreaming)
  }

  it('assembles text, reasoning summary, function and custom tool calls equal to the IR', async () => {
    const stream = await sdkStream(fullAnswer)
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    const response = await stream.finalResponse()
    expect(response.output).toMatchObject(fullOutput)
    expect(response.output_text).toBe('Hello 🌍')
    expect(response.usage).toEqual(fullUsage)
    expect(response.status).toBe('completed')
    const textPart = ['response.content_part.added', 'response.output_text.delta', 'response.output_text.delta']
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      ...textPart,
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(server!.requests[0]).toMatchObject({stream: true, model: 'gpt-5-codex'})
  })

  it('rejects with the failure message when the stream fails midway', async () => {
    const stream = await sdkStream([
      ...fullAnswer.slice(0, 8),
      {type: 'error', message: 'Rate limit reached. Please try again in 2s.', kind: 'rate_limit', status: 429},
    ])
    const failure = await stream.finalResponse().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenAI.APIError)
    expect(failure).toMatchObject({code: 'rate_limit_exceeded', message: 'Rate limit reached. Please try again in 2s.'})
  })
})
