// Codex's client-run `tool_search` (how Codex 0.171 offers its MCP tools) and the tools it loads, through the
// Responses codec: request decoding, the names answers use, plain and streamed answers, encoding for an upstream.
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parseSse, streamProblems} from '../../../../test/fixtures/codecs/validate-stream.js'
import {codecs} from '../index.js'
import type {IRResponse, IRStreamEvent} from '../ir.js'
import {encodeResponsesRequest} from './request.js'
import {decodeResponsesRequest} from './request-decode.js'
import {encodeResponsesResponse} from './response.js'
import {createResponsesStreamEncoder} from './stream-encode.js'
import {clientToolNames} from './tools.js'

type Json = Record<string, any>

const FIXTURE = new URL('../../../../test/fixtures/clients/codex-0.171.0-namespace-tools.json', import.meta.url)
const codexRequest = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as {body: Json}).body

const searchParameters = {type: 'object', properties: {query: {type: 'string'}}, required: ['query']}
const searchTool = {type: 'tool_search', execution: 'client', description: 'Find tools.', parameters: searchParameters}
const addParameters = {type: 'object', properties: {a: {type: 'number'}, b: {type: 'number'}}}
const echoNamespace = {
  type: 'namespace',
  name: 'mcp__echo',
  description: 'Tools in the mcp__echo namespace.',
  tools: [
    {type: 'function', name: 'add', description: 'Adds two numbers.', defer_loading: true, parameters: addParameters},
    {type: 'function', name: 'echo', defer_loading: true, parameters: {type: 'object'}},
  ],
}
const searchCall = {
  type: 'tool_search_call',
  id: 'tsc_1',
  call_id: 'call_s',
  status: 'completed',
  execution: 'client',
  arguments: {query: 'echo add', limit: 8},
}
const searchOutput = (tools: unknown[]) => ({
  type: 'tool_search_output',
  id: 'tso_1',
  call_id: 'call_s',
  status: 'completed',
  execution: 'client',
  tools,
})
const userItem = (text: string) => ({type: 'message', role: 'user', content: [{type: 'input_text', text}]})

function decode(body: Json) {
  const dropped: string[] = []
  const ir = decodeResponsesRequest({model: 'm', ...body}, {onDropped: (field) => dropped.push(field)})
  return {ir, dropped}
}

describe('decoding a client-run tool search', () => {
  it('offers a tool_search the client runs as a function tool, and drops one OpenAI runs', () => {
    const {ir, dropped} = decode({input: 'q', tools: [searchTool, {type: 'tool_search', parameters: {}}]})
    expect(ir.tools).toEqual([{name: 'tool_search', description: 'Find tools.', parameters: searchParameters}])
    expect(dropped).toEqual(['tools.tool_search'])
  })

  it('makes the search a tool call and its output a result naming the loaded tools, which are offered', () => {
    const {ir, dropped} = decode({
      input: [userItem('Add 2 and 3.'), searchCall, searchOutput([echoNamespace])],
      tools: [searchTool, {type: 'function', name: 'exec_command', parameters: {type: 'object'}}],
    })
    expect(dropped).toEqual(['tools.namespace.description'])
    expect(ir.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [{type: 'tool_call', id: 'call_s', name: 'tool_search', input: {query: 'echo add', limit: 8}}],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            toolCallId: 'call_s',
            toolName: 'tool_search',
            content: [
              {
                type: 'text',
                text:
                  'These tools are now available; call them by these names:\n' +
                  '- mcp__echo__add: Adds two numbers.\n- mcp__echo__echo',
              },
            ],
            isError: false,
          },
        ],
      },
    ])
    expect(ir.tools.map((tool) => tool.name)).toEqual([
      'tool_search',
      'exec_command',
      'mcp__echo__add',
      'mcp__echo__echo',
    ])
    expect(ir.tools[2]).toEqual({name: 'mcp__echo__add', description: 'Adds two numbers.', parameters: addParameters})
  })

  it('offers a tool loaded twice, or also declared in tools, once: the first declaration wins', () => {
    const declared = {type: 'function', name: 'mcp__echo__echo', description: 'Mine.', parameters: {type: 'object'}}
    const {ir} = decode({
      input: [userItem('q'), searchCall, searchOutput([echoNamespace]), searchOutput([echoNamespace])],
      tools: [declared],
    })
    expect(ir.tools.map((tool) => [tool.name, tool.description])).toEqual([
      ['mcp__echo__echo', 'Mine.'],
      ['mcp__echo__add', 'Adds two numbers.'],
    ])
  })

  it('tells the model when the search found nothing', () => {
    const {ir} = decode({input: [userItem('q'), searchCall, searchOutput([])], tools: [searchTool]})
    expect(ir.messages[2]?.content[0]).toMatchObject({
      type: 'tool_result',
      content: [{type: 'text', text: 'No tools matched the search.'}],
    })
  })

  it('drops a search OpenAI ran (no call to pair a result with) but still offers what it loaded', () => {
    const server = {execution: 'server', call_id: null}
    const {ir, dropped} = decode({
      input: [userItem('q'), {...searchCall, ...server}, {...searchOutput([echoNamespace]), ...server}],
    })
    expect(ir.messages).toEqual([{role: 'user', content: [{type: 'text', text: 'q'}]}])
    expect(ir.tools.map((tool) => tool.name)).toEqual(['mcp__echo__add', 'mcp__echo__echo'])
    expect(dropped).toEqual([
      'input.tool_search_call (run by the server)',
      'tools.namespace.description',
      'input.tool_search_output (run by the server)',
    ])
  })

  it('reads the request Codex 0.171 sent after an MCP tool call', () => {
    const {ir} = decode(codexRequest)
    expect(ir.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['tool_search', 'mcp__echo__echo']))
    const [search, result, echo, echoed] = ir.messages.slice(2)
    expect(search?.content).toEqual([
      {type: 'tool_call', id: 'call_rec_search_1', name: 'tool_search', input: {query: 'echo add', limit: 8}},
    ])
    expect(result?.content[0]).toMatchObject({toolCallId: 'call_rec_search_1', toolName: 'tool_search'})
    expect(JSON.stringify(result?.content)).toContain('mcp__echo__echo: Returns the given text unchanged.')
    expect(echo?.content).toEqual([
      {type: 'tool_call', id: 'call_rec_echo_1', name: 'mcp__echo__echo', input: {text: 'marker-4711'}},
    ])
    expect(echoed?.content[0]).toMatchObject({toolCallId: 'call_rec_echo_1', toolName: 'mcp__echo__echo'})
  })
})

describe('answers to a client that runs its tool search', () => {
  const request = {input: [userItem('q'), searchCall, searchOutput([echoNamespace])], tools: [searchTool]}

  it('knows the loaded tools by their namespace and the search by its own kind', () => {
    const names = clientToolNames(request)
    expect(names.get('mcp__echo__add')).toEqual({kind: 'function', name: 'add', namespace: 'mcp__echo'})
    expect(names.get('tool_search')).toEqual({kind: 'tool_search', name: 'tool_search'})
    expect(clientToolNames({tools: [{type: 'tool_search'}]}).has('tool_search')).toBe(false)
  })

  it('gives a call to the search back as a tool_search_call, a loaded tool as a namespaced function_call', () => {
    const answer: IRResponse = {
      id: 'resp_1',
      model: 'up',
      content: [
        {type: 'tool_call', id: 'call_2', name: 'tool_search', input: {query: 'calendar'}},
        {type: 'tool_call', id: 'call_3', name: 'mcp__echo__add', input: {a: 2, b: 3}},
      ],
      stopReason: 'tool_use',
      usage: {inputTokens: 1, outputTokens: 1},
    }
    const output = encodeResponsesResponse(answer, {request}).output as Json[]
    expect(output).toEqual([
      {
        id: expect.stringMatching(/^tsc_[0-9a-f]{32}$/),
        type: 'tool_search_call',
        status: 'completed',
        call_id: 'call_2',
        execution: 'client',
        arguments: {query: 'calendar'},
      },
      {
        id: expect.stringMatching(/^fc_[0-9a-f]{32}$/),
        type: 'function_call',
        status: 'completed',
        call_id: 'call_3',
        name: 'add',
        namespace: 'mcp__echo',
        arguments: '{"a":2,"b":3}',
      },
    ])
  })

  it('streams a tool_search_call as output_item.added and output_item.done, with its arguments as an object', () => {
    const events: IRStreamEvent[] = [
      {type: 'message_start', id: 'resp_s'},
      {type: 'block_start', index: 0, kind: 'tool_call', id: 'call_2', name: 'tool_search'},
      {type: 'tool_input_delta', index: 0, json: '{"query":'},
      {type: 'tool_input_delta', index: 0, json: '"calendar","limit":3}'},
      {type: 'block_stop', index: 0},
      {type: 'message_end', stopReason: 'tool_use'},
    ]
    const encoder = createResponsesStreamEncoder({model: 'm', request})
    const text = events.map((event) => encoder.encode([event])).join('') + encoder.finish()
    expect(streamProblems('responses', text)).toEqual([])
    const payloads = parseSse(text).map((event) => JSON.parse(event.data) as Json)
    expect(payloads.map((payload) => payload.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.output_item.done',
      'response.completed',
    ])
    const item = {type: 'tool_search_call', call_id: 'call_2', execution: 'client'}
    expect(payloads[2]).toMatchObject({output_index: 0, item: {...item, status: 'in_progress', arguments: {}}})
    const done = {...item, status: 'completed', arguments: {query: 'calendar', limit: 3}}
    expect(payloads[3]).toMatchObject({output_index: 0, item: done})
    expect(payloads[4]?.response.output).toEqual([payloads[3]?.item])
  })
})

describe('encoding a tool search for a Responses upstream', () => {
  it('carries the search, its result and the loaded tools as the functions every other upstream sees', () => {
    const {ir} = decode(codexRequest)
    const out = encodeResponsesRequest(ir)
    const tools = out.tools as Json[]
    expect(tools.find((tool) => tool.name === 'tool_search')).toMatchObject({type: 'function', strict: false})
    expect(tools.find((tool) => tool.name === 'mcp__echo__add')).toMatchObject({type: 'function'})
    const input = out.input as Json[]
    expect(input.find((item) => item.call_id === 'call_rec_search_1' && item.type === 'function_call')).toEqual({
      type: 'function_call',
      call_id: 'call_rec_search_1',
      name: 'tool_search',
      arguments: '{"query":"echo add","limit":8}',
    })
    const result = input.find((item) => item.type === 'function_call_output' && item.call_id === 'call_rec_search_1')
    expect(result?.output).toContain('- mcp__echo__add: Adds two numbers.')
    // Decoding the encoding gives the same turns and tools: nothing of the search is lost on the way.
    const again = decodeResponsesRequest(JSON.parse(JSON.stringify(out)))
    expect(again.messages).toEqual(ir.messages)
    expect(again.tools).toEqual(ir.tools)
  })

  it.each(['openai', 'anthropic', 'gemini'] as const)('offers the loaded tools to %s upstreams', (protocol) => {
    const text = JSON.stringify(codecs[protocol].encodeRequest(decode(codexRequest).ir))
    for (const name of ['tool_search', 'mcp__echo__add', 'mcp__echo__echo', 'call_rec_search_1']) {
      expect(text).toContain(name)
    }
  })
})
