// A client-run tool search (how Codex offers its MCP tools) through serve into a Messages upstream, read with the
// openai SDK: the model's call to `tool_search` streams back as a `tool_search_call` item, and after the client's
// `tool_search_output` (in a follow-up by `previous_response_id`) the model calls a loaded tool by its namespace.
import OpenAI from 'openai'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {startAnthropicFake, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let fake: FakeUpstream
let proxy: TestProxy

beforeAll(async () => {
  fake = await startAnthropicFake({name: 'an'})
  proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'an')]})
})

afterAll(async () => {
  await proxy?.cleanup()
  await fake?.close()
})

const searchTool = {
  type: 'tool_search' as const,
  execution: 'client' as const,
  description: 'Search the deferred tools.',
  parameters: {type: 'object', properties: {query: {type: 'string'}}, required: ['query']},
}
const calendar = {
  type: 'namespace',
  name: 'mcp__calendar',
  description: 'Calendar tools.',
  tools: [
    {
      type: 'function',
      name: 'create_event',
      description: 'Creates an event.',
      defer_loading: true,
      parameters: {type: 'object', properties: {title: {type: 'string'}}, required: ['title']},
    },
  ],
}

it('streams a tool_search_call the client runs, then a namespaced call to a tool the search loaded', async () => {
  fake.reset()
  fake.enqueue(
    {kind: 'reply', reply: {toolCalls: [{id: 'toolu_search', name: 'tool_search', arguments: {query: 'calendar'}}]}},
    {
      kind: 'reply',
      reply: {toolCalls: [{id: 'toolu_event', name: 'mcp__calendar__create_event', arguments: {title: 'Standup'}}]},
    },
  )
  const client = new OpenAI({apiKey: 'k', baseURL: `${proxy.url}/claude-custom/v1`, maxRetries: 0})

  const stream = client.responses.stream({model: 'claude-sonnet-4-6', input: 'Book a standup.', tools: [searchTool]})
  const events: Array<{type: string; item?: {type: string}}> = []
  for await (const event of stream) events.push(event)
  const first = await stream.finalResponse()
  expect(fake.requests[0]?.body.tools.map((t: {name: string}) => t.name)).toEqual(['tool_search'])
  const itemEvents = events.filter((e) => e.type.startsWith('response.output_item.'))
  expect(itemEvents.map((e) => [e.type, e.item?.type])).toEqual([
    ['response.output_item.added', 'tool_search_call'],
    ['response.output_item.done', 'tool_search_call'],
  ])
  expect(first.output).toEqual([
    {
      id: expect.stringMatching(/^tsc_/),
      type: 'tool_search_call',
      status: 'completed',
      call_id: 'toolu_search',
      execution: 'client',
      arguments: {query: 'calendar'},
    },
  ])

  // The client ran the search; only its output is new, the rest is the stored conversation.
  const found = {type: 'tool_search_output', call_id: 'toolu_search', execution: 'client', tools: [calendar]}
  const second = await client.responses.create({
    model: 'claude-sonnet-4-6',
    previous_response_id: first.id,
    input: [found as never],
    tools: [searchTool],
  })
  const upstream = fake.requests[1]?.body
  expect(upstream.tools.map((t: {name: string}) => t.name)).toEqual(['tool_search', 'mcp__calendar__create_event'])
  const result = upstream.messages.at(-1).content[0]
  expect(result).toMatchObject({type: 'tool_result', tool_use_id: 'toolu_search'})
  expect(JSON.stringify(result.content)).toContain('mcp__calendar__create_event: Creates an event.')
  expect(second.output).toMatchObject([
    {type: 'function_call', call_id: 'toolu_event', name: 'create_event', namespace: 'mcp__calendar'},
  ])
})
