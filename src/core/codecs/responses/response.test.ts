import OpenAI from 'openai'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {itemId} from '../../../../test/fixtures/codecs/responses.js'
import {serveAnswer, type AnswerServer} from '../../../../test/helpers/answer-server.js'
import {CodecError} from '../errors.js'
import type {IRResponse} from '../ir.js'
import {openAIErrorBody} from '../openai-errors.js'
import {responsesErrorBody} from './errors.js'
import {decodeResponsesResponse, encodeResponsesResponse} from './response.js'

const CREATED = 1767225600
const request = {
  model: 'gpt-5-codex',
  input: 'hi',
  instructions: 'Be brief.',
  temperature: 0.2,
  max_output_tokens: 500,
  previous_response_id: 'resp_prev',
  store: false,
  metadata: {turn: '1'},
  user: 'u-1',
  tools: [
    {type: 'function', name: 'get_weather', parameters: {type: 'object'}},
    {type: 'custom', name: 'apply_patch'},
    {type: 'namespace', name: 'mcp', tools: [{type: 'function', name: 'search', parameters: {type: 'object'}}]},
  ],
}

const answer: IRResponse = {
  id: 'resp_01',
  model: 'up-model',
  content: [
    {type: 'thinking', text: 'Think', signature: 'sig-1'},
    {type: 'redacted_thinking', data: 'opaque'},
    {type: 'text', text: 'Hello 🌍'},
    {type: 'tool_call', id: 'call_1', name: 'get_weather', input: {city: 'Paris'}},
    {type: 'tool_call', id: 'call_2', name: 'apply_patch', input: {input: '*** Begin Patch\n'}},
    {type: 'tool_call', id: 'call_3', name: 'mcp__search', input: {}},
  ],
  stopReason: 'tool_use',
  usage: {inputTokens: 10, outputTokens: 20, cachedInputTokens: 3, cacheCreationInputTokens: 2, reasoningTokens: 5},
}

const output = [
  {
    id: itemId('rs_', 0),
    type: 'reasoning',
    summary: [{type: 'summary_text', text: 'Think'}],
    encrypted_content: 'sig-1',
  },
  {id: itemId('rs_', 1), type: 'reasoning', summary: [], encrypted_content: 'opaque'},
  {
    id: itemId('msg_', 2),
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{type: 'output_text', text: 'Hello 🌍', annotations: [], logprobs: []}],
  },
  {
    id: itemId('fc_', 3),
    type: 'function_call',
    status: 'completed',
    call_id: 'call_1',
    name: 'get_weather',
    arguments: '{"city":"Paris"}',
  },
  {
    id: itemId('ctc_', 4),
    type: 'custom_tool_call',
    status: 'completed',
    call_id: 'call_2',
    name: 'apply_patch',
    input: '*** Begin Patch\n',
  },
  {
    id: itemId('fc_', 5),
    type: 'function_call',
    status: 'completed',
    call_id: 'call_3',
    name: 'search',
    namespace: 'mcp',
    arguments: '{}',
  },
]

beforeEach(() => {
  vi.spyOn(Date, 'now').mockReturnValue(CREATED * 1000)
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('encodeResponsesResponse', () => {
  it('gives every block as an output item in order, tool calls as the client declared them, echoing the request', () => {
    expect(encodeResponsesResponse(answer, {request})).toEqual({
      id: 'resp_01',
      object: 'response',
      created_at: CREATED,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      max_output_tokens: 500,
      model: 'up-model',
      output,
      parallel_tool_calls: true,
      previous_response_id: 'resp_prev',
      reasoning: {effort: null, summary: null},
      store: false,
      temperature: 0.2,
      text: {format: {type: 'text'}},
      tool_choice: 'auto',
      tools: [{...request.tools[0], strict: false}, ...request.tools.slice(1)],
      top_p: 1,
      usage: {
        input_tokens: 10,
        input_tokens_details: {cached_tokens: 3, cache_write_tokens: 2},
        output_tokens: 20,
        output_tokens_details: {reasoning_tokens: 5},
        total_tokens: 30,
      },
      user: 'u-1',
      metadata: {turn: '1'},
    })
  })

  it.each([
    ['max_tokens', 'incomplete', {reason: 'max_output_tokens'}],
    ['content_filter', 'incomplete', {reason: 'content_filter'}],
    ['end_turn', 'completed', null],
    ['tool_use', 'completed', null],
    ['stop_sequence', 'completed', null],
    ['other', 'completed', null],
  ] as const)('a %s stop gives status %s', (stopReason, status, details) => {
    const body = encodeResponsesResponse({...answer, stopReason})
    expect(body).toMatchObject({status, incomplete_details: details})
  })

  it('makes a resp_ id when the upstream had none, and reports what it cannot carry', () => {
    const dropped: string[] = []
    const body = encodeResponsesResponse(
      {...answer, id: undefined, content: [{type: 'text', text: 'a', signature: 's'}]},
      {onDropped: (field) => dropped.push(field)},
    )
    expect(body.id).toMatch(/^resp_[0-9a-f]{32}$/)
    expect(dropped).toEqual(['text.signature'])
  })

  it('lists a function tool with the `parameters` and `strict` the API always answers with, not strict', () => {
    const tools = [
      {type: 'function', name: 'now'},
      {type: 'function', name: 'f', parameters: {type: 'object'}, strict: true},
    ]
    expect(encodeResponsesResponse(answer, {request: {...request, tools}}).tools).toEqual([
      {type: 'function', name: 'now', parameters: null, strict: false},
      {type: 'function', name: 'f', parameters: {type: 'object'}, strict: false},
    ])
  })

  it('prefers the id the proxy chose to the upstream’s', () => {
    expect(encodeResponsesResponse(answer, {id: 'resp_proxy'}).id).toBe('resp_proxy')
  })
})

describe('decodeResponsesResponse', () => {
  it('reads back every item the encoder writes', () => {
    const body = JSON.parse(JSON.stringify(encodeResponsesResponse(answer, {request}))) as unknown
    expect(decodeResponsesResponse(body)).toEqual(answer)
  })

  it.each([
    [{status: 'completed'}, 'end_turn'],
    [{status: 'completed', output: [{type: 'function_call', call_id: 'c', name: 'f', arguments: '{}'}]}, 'tool_use'],
    [{status: 'incomplete', incomplete_details: {reason: 'max_output_tokens'}}, 'max_tokens'],
    [{status: 'incomplete', incomplete_details: {reason: 'content_filter'}}, 'content_filter'],
    [{status: 'incomplete'}, 'other'],
  ])('%j stops with %s', (body, stopReason) => {
    expect(decodeResponsesResponse({id: 'r', model: 'm', ...body}).stopReason).toBe(stopReason)
  })

  it('joins summary parts, reads refusals as text and drops what the IR cannot carry', () => {
    const dropped: string[] = []
    const res = decodeResponsesResponse(
      {
        output: [
          {
            type: 'reasoning',
            summary: [
              {type: 'summary_text', text: 'a'},
              {type: 'summary_text', text: 'b'},
            ],
          },
          {type: 'reasoning', summary: []},
          {type: 'web_search_call', status: 'completed'},
          {type: 'message', content: [{type: 'refusal', refusal: 'No.'}]},
        ],
      },
      {onDropped: (field) => dropped.push(field)},
    )
    expect(res.content).toEqual([
      {type: 'thinking', text: 'a\n\nb'},
      {type: 'text', text: 'No.'},
    ])
    expect(dropped).toEqual(['reasoning without summary', 'output.web_search_call'])
  })

  it('answers a failed response with the status of its error code', () => {
    const failed = {status: 'failed', error: {code: 'rate_limit_exceeded', message: 'Slow down'}}
    expect(() => decodeResponsesResponse(failed)).toThrow(CodecError)
    expect(() => decodeResponsesResponse(failed)).toThrow(expect.objectContaining({status: 429, message: 'Slow down'}))
  })
})

describe('responsesErrorBody', () => {
  it.each([400, 401, 404, 429, 500, 503])('is the OpenAI error body for %s', (status) => {
    expect(responsesErrorBody(status, 'm')).toEqual(openAIErrorBody(status, 'm'))
  })
})

describe('the openai SDK reads our answers', () => {
  let server: AnswerServer | undefined
  afterEach(async () => {
    await server?.close()
  })

  it('client.responses.create({stream: false}) parses the response', async () => {
    vi.restoreAllMocks()
    server = await serveAnswer(JSON.stringify(encodeResponsesResponse(answer, {request})), 'application/json')
    const client = new OpenAI({baseURL: server.baseURL, apiKey: 'x', maxRetries: 0})
    const params = {...request, stream: false} as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming
    const response = await client.responses.create(params)
    expect(response.output).toEqual(output)
    expect(response.output_text).toBe('Hello 🌍')
    expect(response.usage?.total_tokens).toBe(30)
    expect(server.requests[0]).toMatchObject({model: 'gpt-5-codex', stream: false})
  })
})
