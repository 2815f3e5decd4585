// Every request captured from Codex (test/fixtures/clients/codex-*.json) replayed through serve into every pool
// type's fake upstream: what each upstream receives, field by field, and that Codex gets a valid Responses stream.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseSse, type FakeUpstream, type ReplySpec} from '../fakes/index.js'
import {ROOT} from '../helpers/cli.js'
import {startEveryPoolType, generations, type EveryPoolType} from '../helpers/every-pool-type.js'
import type {OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {post, type TestProxy} from '../helpers/proxy.js'
import {textOf, upstreamView, type UpstreamView} from '../helpers/upstream-view.js'

interface Fixture {
  file: string
  method: string
  path: string
  headers: Record<string, string>
  body: Record<string, any>
}

const FIXTURES_DIR = join(ROOT, 'test', 'fixtures', 'clients')
// The WebSocket capture is an upgrade, not a request to replay over HTTP.
const FIXTURES: Fixture[] = readdirSync(FIXTURES_DIR)
  .filter((f) => /^codex-.*\.json$/.test(f))
  .map((file) => ({file, ...JSON.parse(readFileSync(join(FIXTURES_DIR, file), 'utf8'))}))
  .filter((f) => f.method === 'POST' && f.path.endsWith('/responses'))

/** Codex's own headers, without those that describe the captured connection */
function replayHeaders(f: Fixture): Record<string, string> {
  const {host: _h, 'content-length': _l, authorization: _a, 'accept-encoding': _e, ...rest} = f.headers
  return rest
}

interface Upstream {
  type: string
  model: string
  fake: () => FakeUpstream
  /** Where the upstream carries thinking, and whether with its signature (Anthropic blocks, Gemini thoughtSignature) */
  thinking: 'signed' | 'text' | 'none'
}

let openai: FakeUpstream
let anthropic: FakeUpstream
let responses: FakeUpstream
let oauth: OAuthUpstreams
let proxy: TestProxy

const UPSTREAMS: Upstream[] = [
  {type: 'openai-custom', model: 'gpt-5.5', fake: () => openai, thinking: 'text'},
  {type: 'claude-custom', model: 'claude-sonnet-4-6', fake: () => anthropic, thinking: 'signed'},
  {type: 'gemini-cli-oauth', model: 'gemini-2.5-pro', fake: () => oauth.codeAssist, thinking: 'signed'},
  // Its own behaviours aside, the Kiro fake scripts like the others.
  {type: 'claude-kiro-oauth', model: 'claude-sonnet-4-6', fake: () => oauth.kiro as never, thinking: 'none'},
  {type: 'openai-qwen-oauth', model: 'qwen3-coder-plus', fake: () => oauth.portal, thinking: 'text'},
  {type: 'openaiResponses-custom', model: 'gpt-5.4', fake: () => responses, thinking: 'signed'},
]

let every: EveryPoolType | undefined

beforeAll(async () => {
  every = await startEveryPoolType()
  ;({openai, anthropic, responses, oauth, proxy} = every)
})

afterAll(async () => {
  await every?.close()
})

/** A Responses SSE stream as the openai SDK's stream helper checks it; returns the final response */
function checkResponsesStream(text: string): Record<string, any> {
  const events = parseSse(text).events.map((e) => ({name: e.event, data: JSON.parse(e.data)}))
  expect(events[0]?.data.type).toBe('response.created')
  expect(events.at(-1)?.data.type).toBe('response.completed')
  for (const [i, e] of events.entries()) {
    expect(e.name, `event ${i}`).toBe(e.data.type)
    expect(e.data.sequence_number, `event ${i}`).toBe(i)
  }
  const done = events.filter((e) => e.data.type === 'response.output_item.done').map((e) => e.data.item)
  const final = events.at(-1)!.data.response
  expect(final.status).toBe('completed')
  expect(final.output).toEqual(done)
  expect(final.usage).toMatchObject({input_tokens: expect.any(Number), output_tokens: expect.any(Number)})
  return final
}

async function replay(u: Upstream, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await post(`${proxy.url}/${u.type}/v1/responses`, {...body, model: u.model}, headers)
  expect(response.status, response.text).toBe(200)
  expect(String(response.headers['content-type'])).toMatch(/^text\/event-stream/)
  return checkResponsesStream(response.text)
}

/** Upstream function name of a Responses function call (namespaced ones joined as the IR knows them) */
const flatName = (item: {name: string; namespace?: string}): string =>
  item.namespace ? `${item.namespace}__${item.name}` : item.name

/** The text of a function_call_output's `output`: a string or an array of input_text parts */
const outputText = (output: unknown): string => (typeof output === 'string' ? output : textOf(output))

/** The tools Codex's tool searches loaded, from the `tool_search_output` items of an input */
const loadedTools = (input: any[]): any[] => input.flatMap((i) => (i.type === 'tool_search_output' ? i.tools : []))

/** The flat names of the functions inside the namespace tools among `tools` */
const namespaceTools = (tools: any[]): string[] =>
  tools
    .filter((t) => t.type === 'namespace')
    .flatMap((ns) => ns.tools.map((t: any) => flatName({name: t.name, namespace: ns.name})))

function checkReplayed(f: Fixture, view: UpstreamView, u: Upstream): void {
  const input: any[] = f.body.input
  const texts = (role: string) =>
    input.filter((i) => i.type === 'message' && i.role === role).flatMap((i) => i.content.map((c: any) => c.text))
  // Developer messages become the system prompt (Kiro has none: they lead its first user message).
  const system = u.type === 'claude-kiro-oauth' ? (view.userTexts[0] ?? '') : view.system
  for (const text of texts('developer')) expect(system).toContain(text)
  for (const text of texts('user')) expect(view.userTexts.join('\n')).toContain(text)
  // Built-ins only OpenAI runs are left out; Codex's own tools stay, the freeform apply_patch as a function.
  expect(view.tools).toContain('exec_command')
  expect(view.tools).toContain('apply_patch')
  expect(view.tools).not.toContain('web_search')
  expect(view.tools.every((name) => typeof name === 'string' && /^[a-zA-Z0-9_-]{1,64}$/.test(name))).toBe(true)
  // Codex runs its tool search itself: the model gets it as a function.
  if (f.body.tools.some((t: any) => t.type === 'tool_search' && t.execution === 'client')) {
    expect(view.tools).toContain('tool_search')
  }
  // Namespace tools in `tools`, and those a tool search loaded, arrive as flat functions.
  for (const name of namespaceTools([...f.body.tools, ...loadedTools(input)])) expect(view.tools).toContain(name)
  // Function calls, tool searches and their outputs keep their call ids.
  const calls = input.filter((i) => i.type === 'function_call' || i.type === 'tool_search_call')
  expect(view.calls.map((c) => [c.id, c.name, c.arguments])).toEqual(
    calls.map((c) =>
      c.type === 'tool_search_call'
        ? [c.call_id, 'tool_search', c.arguments]
        : [c.call_id, flatName(c), JSON.parse(c.arguments)],
    ),
  )
  const outputs = input.filter((i) => i.type === 'function_call_output' || i.type === 'tool_search_output')
  expect(view.results.map((r) => r.id)).toEqual(outputs.map((o) => o.call_id))
  for (const [i, o] of outputs.entries()) {
    // A tool search's result names the tools it loaded, as the model is to call them.
    const lines = o.type === 'tool_search_output' ? namespaceTools(o.tools) : outputText(o.output).split('\n')
    for (const line of lines.filter(Boolean)) expect(view.results[i]?.text).toContain(line)
  }
}

describe.each(UPSTREAMS)('Codex fixtures through serve into $type', (u) => {
  it.each(FIXTURES)('$file: the upstream gets the request in its own terms, Codex a Responses stream', async (f) => {
    const fake = u.fake()
    fake.reset()
    fake.script.fallback = {kind: 'reply', reply: {text: 'Replayed.'}}
    const final = await replay(u, f.body, replayHeaders(f))
    const [request, ...more] = generations(fake)
    expect(more).toEqual([])
    // Same protocol both sides: the request passes through as Codex sent it.
    if (fake.protocol === 'responses') expect(request?.body).toEqual({...f.body, model: u.model})
    else checkReplayed(f, upstreamView(fake.protocol, request?.body), u)
    expect(final.output.filter((o: any) => o.type === 'message')).toMatchObject([
      {role: 'assistant', content: [{type: 'output_text', text: 'Replayed.'}]},
    ])
  })

  /** A tool turn whose upstream answer carries thinking, and the next request as Codex sends it */
  async function reasoningRoundTrip(): Promise<{answer: Record<string, any>; call: any; view: UpstreamView}> {
    const fake = u.fake()
    fake.reset()
    const first = FIXTURES.find((f) => f.file.includes('first-turn'))!
    const reply: ReplySpec = {
      thinking: {text: 'Run it to see.', signature: `sig-${u.type}`},
      toolCalls: [{id: `call_${u.type.replace(/-/g, '_')}_1`, name: 'exec_command', arguments: {cmd: 'echo hi'}}],
    }
    fake.enqueue({kind: 'reply', reply}, {kind: 'reply', reply: {text: 'It printed hi.'}})
    const answer = await replay(u, first.body)
    const call = answer.output.find((o: any) => o.type === 'function_call')
    expect(call).toMatchObject({call_id: reply.toolCalls![0]!.id, name: 'exec_command'})
    expect(JSON.parse(call.arguments)).toEqual({cmd: 'echo hi'})
    // Codex sends its history back with each reasoning item's `content` nulled (see the tool-result fixture).
    const history = answer.output.map((o: any) => (o.type === 'reasoning' ? {...o, content: null} : o))
    const output = {type: 'function_call_output', call_id: call.call_id, output: 'hi\n'}
    const second = await replay(u, {...first.body, input: [...first.body.input, ...history, output]})
    expect(second.output.find((o: any) => o.type === 'message')?.content[0].text).toBe('It printed hi.')
    return {answer, call, view: upstreamView(fake.protocol, generations(fake)[1]?.body)}
  }

  it('a tool call and its output keep the call id, reasoning comes back as the thinking text', async () => {
    const {answer, call, view} = await reasoningRoundTrip()
    expect(view.calls.map((c) => c.id)).toEqual([call.call_id])
    expect(view.results).toMatchObject([{id: call.call_id, text: expect.stringContaining('hi')}])
    if (u.thinking === 'none') return
    expect(answer.output.some((o: any) => o.type === 'reasoning')).toBe(true)
    expect(view.thinking.map((t) => t.text)).toEqual(['Run it to see.'])
  })

  if (u.thinking === 'signed') {
    // Gemini puts its signature on the function call: a reasoning item of its own carries it through Codex.
    it('the thinking comes back with its signature', async () => {
      const {view} = await reasoningRoundTrip()
      expect(view.thinking).toEqual([{text: 'Run it to see.', signature: `sig-${u.type}`}])
    })
  }

  if (u.type !== 'openaiResponses-custom') {
    // Codex 0.171 defers its MCP tools: the model must call Codex's own `tool_search`, and gets the tools it found
    // in Codex's `tool_search_output`. The turns of the namespace capture, played with this upstream's model.
    it("the model finds Codex's MCP tools with tool_search and calls one, which Codex gets as a namespaced call", async () => {
      const f = FIXTURES.find((x) => x.file.includes('namespace-tools'))!
      const fake = u.fake()
      fake.reset()
      const opening = f.body.input.filter((i: any) => i.type === 'message')
      const searchId = `call_${u.type.replace(/-/g, '_')}_search`
      const addId = `call_${u.type.replace(/-/g, '_')}_add`
      fake.enqueue(
        {kind: 'reply', reply: {toolCalls: [{id: searchId, name: 'tool_search', arguments: {query: 'add numbers'}}]}},
        {kind: 'reply', reply: {toolCalls: [{id: addId, name: 'mcp__echo__add', arguments: {a: 2, b: 3}}]}},
        {kind: 'reply', reply: {text: 'It is 5.'}},
      )

      // 1. Only the tool search is offered; the model calls it and Codex gets a tool_search_call to run.
      const first = await replay(u, {...f.body, input: opening}, replayHeaders(f))
      const firstView = upstreamView(fake.protocol, generations(fake)[0]?.body)
      expect(firstView.tools).toContain('tool_search')
      expect(firstView.tools).not.toContain('mcp__echo__add')
      const search = first.output.find((o: any) => o.type === 'tool_search_call')
      expect(search).toMatchObject({call_id: searchId, execution: 'client', arguments: {query: 'add numbers'}})

      // 2. Codex sends what its search found; the model now sees the MCP tools and calls one.
      const [found] = f.body.input.filter((i: any) => i.type === 'tool_search_output')
      const searched = [...opening, search, {...found, call_id: searchId}]
      const second = await replay(u, {...f.body, input: searched}, replayHeaders(f))
      const secondView = upstreamView(fake.protocol, generations(fake)[1]?.body)
      for (const name of ['tool_search', 'mcp__echo__add', 'mcp__echo__echo']) expect(secondView.tools).toContain(name)
      expect(secondView.calls).toEqual([{id: searchId, name: 'tool_search', arguments: {query: 'add numbers'}}])
      expect(secondView.results).toMatchObject([{id: searchId, text: expect.stringContaining('mcp__echo__add')}])
      const add = second.output.find((o: any) => o.type === 'function_call')
      expect(add).toMatchObject({call_id: addId, name: 'add', namespace: 'mcp__echo'})
      expect(JSON.parse(add.arguments)).toEqual({a: 2, b: 3})

      // 3. Codex ran the MCP tool; its output reaches the model, which answers.
      const result = {type: 'function_call_output', call_id: addId, output: [{type: 'input_text', text: '5'}]}
      const third = await replay(u, {...f.body, input: [...searched, add, result]}, replayHeaders(f))
      const thirdView = upstreamView(fake.protocol, generations(fake)[2]?.body)
      expect(thirdView.calls.map((c) => [c.id, c.name])).toEqual([
        [searchId, 'tool_search'],
        [addId, 'mcp__echo__add'],
      ])
      expect(thirdView.results.at(-1)).toEqual({id: addId, text: '5'})
      expect(third.output.find((o: any) => o.type === 'message')?.content[0].text).toBe('It is 5.')
    })
  }
})
