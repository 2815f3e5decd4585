// Every Anthropic, OpenAI chat and Gemini request captured from a real client (test/fixtures/clients; the Codex
// captures have test/responses/codex-fixture.test.ts) replayed through serve into every pool type's fake upstream,
// with MODEL_ALIASES sending each to that upstream's model. What each upstream receives is checked field by field:
// the model, the system text and where a mid-conversation system message lands, the turns in order with their
// roles, texts, tool calls and tool results, the tools, thinking, max tokens, streaming, and that nothing only the
// client's protocol knows leaks into another protocol.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type FakeUpstream, type Protocol, type RecordedRequest} from '../fakes/index.js'
import {ROOT} from '../helpers/cli.js'
import {startEveryPoolType, generations, type EveryPoolType} from '../helpers/every-pool-type.js'
import type {OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {post, type TestProxy} from '../helpers/proxy.js'
import {textOf} from '../helpers/upstream-view.js'

type ClientProtocol = 'anthropic' | 'openai' | 'gemini'

interface Fixture {
  file: string
  client: string
  version: string
  path: string
  headers: Record<string, string>
  body: Record<string, any>
  protocol: ClientProtocol
}

function protocolOf(path: string): ClientProtocol | undefined {
  if (/\/messages(\?|$)/.test(path)) return 'anthropic'
  if (/\/chat\/completions(\?|$)/.test(path)) return 'openai'
  if (/:(stream)?[gG]enerateContent(\?|$)/.test(path)) return 'gemini'
  return undefined
}

const FIXTURES_DIR = join(ROOT, 'test', 'fixtures', 'clients')
const FIXTURES: Fixture[] = readdirSync(FIXTURES_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({file, ...JSON.parse(readFileSync(join(FIXTURES_DIR, file), 'utf8'))}))
  .map((f) => ({...f, protocol: protocolOf(f.path)}))
  .filter((f): f is Fixture => f.method === 'POST' && f.protocol !== undefined)

// ---------------------------------------------------------------------------------------------------------------
// One protocol-independent reading of a request body, for the client's request and for what an upstream got.

interface Call {
  id: string
  name: string
  args: unknown
}

type Turn =
  | {role: 'user' | 'system'; texts: string[]}
  | {role: 'assistant'; texts: string[]; calls: Call[]}
  | {role: 'tool'; id: string; text: string}

interface ToolShape {
  name: string
  description: string | undefined
  /** Each argument's type, lower-cased, with `?` when it may be null (`["integer", "null"]`, or Gemini's `nullable`) */
  properties: Record<string, string>
  required: string[]
}

interface Conversation {
  system: string[]
  turns: Turn[]
  tools: ToolShape[]
}

const list = (v: unknown): any[] => (Array.isArray(v) ? v : [])
const texts = (content: unknown): string[] =>
  typeof content === 'string'
    ? [content]
    : list(content)
        .filter((p) => typeof p?.text === 'string' && !p.thought)
        .map((p) => p.text)

function typeOf(schema: any): string {
  const types = (Array.isArray(schema?.type) ? schema.type : [schema?.type]).map((t: unknown) =>
    String(t).toLowerCase(),
  )
  const nullable = types.includes('null') || schema?.nullable === true
  return `${types.filter((t: string) => t !== 'null').join('|')}${nullable ? '?' : ''}`
}

function toolShape(name: string, description: string | undefined, schema: any): ToolShape {
  const properties = Object.fromEntries(Object.entries(schema?.properties ?? {}).map(([k, v]) => [k, typeOf(v)]))
  return {name, description, properties, required: list(schema?.required)}
}

function anthropicConversation(body: any): Conversation {
  const turns: Turn[] = []
  for (const m of list(body.messages)) {
    const blocks = typeof m.content === 'string' ? [{type: 'text', text: m.content}] : list(m.content)
    const text = blocks.filter((b) => b.type === 'text').map((b) => b.text)
    if (m.role === 'assistant') {
      const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({id: b.id, name: b.name, args: b.input}))
      turns.push({role: 'assistant', texts: text, calls})
      continue
    }
    for (const b of blocks.filter((x) => x.type === 'tool_result')) {
      turns.push({role: 'tool', id: b.tool_use_id, text: texts(b.content).join('')})
    }
    if (text.length > 0) turns.push({role: m.role, texts: text})
  }
  return {
    system: texts(body.system),
    turns,
    tools: list(body.tools).map((t) => toolShape(t.name, t.description, t.input_schema)),
  }
}

function openaiConversation(body: any): Conversation {
  const messages = list(body.messages)
  const leading = messages.findIndex((m) => m.role !== 'system' && m.role !== 'developer')
  const turns: Turn[] = messages.slice(leading).map((m): Turn => {
    if (m.role === 'tool') return {role: 'tool', id: m.tool_call_id, text: texts(m.content).join('')}
    if (m.role === 'assistant') {
      const calls = list(m.tool_calls).map((c) => ({
        id: c.id,
        name: c.function.name,
        args: JSON.parse(c.function.arguments || '{}'),
      }))
      return {role: 'assistant', texts: texts(m.content).filter(Boolean), calls}
    }
    return {role: m.role === 'developer' ? 'system' : m.role, texts: texts(m.content)}
  })
  return {
    system: messages.slice(0, leading).flatMap((m) => texts(m.content)),
    turns,
    tools: list(body.tools).map((t) => toolShape(t.function.name, t.function.description, t.function.parameters)),
  }
}

/** A Gemini functionResponse's `response`: `{output}` or `{error}` as text, anything else as JSON */
const responseText = (response: any): string => {
  const value = response?.output ?? response?.error
  return typeof value === 'string' ? value : JSON.stringify(response)
}

function geminiConversation(wrapped: any): Conversation {
  // Code Assist wraps the Gemini request in `request`.
  const body = wrapped.request ?? wrapped
  const turns: Turn[] = []
  for (const c of list(body.contents)) {
    const parts = list(c.parts)
    if (c.role === 'model') {
      const calls = parts
        .filter((p) => p.functionCall)
        .map((p) => ({id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args}))
      turns.push({role: 'assistant', texts: texts(parts), calls})
      continue
    }
    for (const p of parts.filter((x) => x.functionResponse)) {
      turns.push({role: 'tool', id: p.functionResponse.id, text: responseText(p.functionResponse.response)})
    }
    if (texts(parts).length > 0) turns.push({role: 'user', texts: texts(parts)})
  }
  return {
    system: texts(body.systemInstruction?.parts),
    turns,
    tools: list(body.tools).flatMap((t) =>
      list(t.functionDeclarations).map((f) => toolShape(f.name, f.description, f.parametersJsonSchema ?? f.parameters)),
    ),
  }
}

function responsesConversation(body: any): Conversation {
  const turns: Turn[] = []
  for (const item of list(body.input)) {
    if (item.type === 'function_call') {
      const call = {id: item.call_id, name: item.name, args: JSON.parse(item.arguments || '{}')}
      const last = turns.at(-1)
      if (last?.role === 'assistant') last.calls.push(call)
      else turns.push({role: 'assistant', texts: [], calls: [call]})
    } else if (item.type === 'function_call_output') {
      turns.push({role: 'tool', id: item.call_id, text: textOf(item.output)})
    } else if (item.role === 'assistant') {
      turns.push({role: 'assistant', texts: texts(item.content), calls: []})
    } else {
      turns.push({role: item.role === 'developer' ? 'system' : item.role, texts: texts(item.content)})
    }
  }
  return {
    system: typeof body.instructions === 'string' ? [body.instructions] : [],
    turns,
    tools: list(body.tools).map((t) => toolShape(t.name, t.description, t.parameters)),
  }
}

const KIRO_TOOL_RESULTS_ONLY = 'Tool results provided.'

function kiroConversation(body: any): Conversation {
  const state = body.conversationState
  const entries = [...list(state.history), {userInputMessage: state.currentMessage.userInputMessage}]
  const turns: Turn[] = []
  for (const entry of entries) {
    const assistant = entry.assistantResponseMessage
    if (assistant) {
      const calls = list(assistant.toolUses).map((u) => ({id: u.toolUseId, name: u.name, args: u.input}))
      turns.push({role: 'assistant', texts: assistant.content ? [assistant.content] : [], calls})
      continue
    }
    const user = entry.userInputMessage
    const results = list(user.userInputMessageContext?.toolResults)
    for (const r of results) turns.push({role: 'tool', id: r.toolUseId, text: textOf(r.content)})
    // Kiro wants content in every user message: a message of tool results alone says so.
    if (results.length === 0 || user.content !== KIRO_TOOL_RESULTS_ONLY)
      turns.push({role: 'user', texts: [user.content]})
  }
  const current = state.currentMessage.userInputMessage
  return {
    system: [],
    turns,
    tools: list(current.userInputMessageContext?.tools).map((t) =>
      toolShape(t.toolSpecification.name, t.toolSpecification.description, t.toolSpecification.inputSchema?.json),
    ),
  }
}

const READERS: Record<Protocol, (body: any) => Conversation> = {
  anthropic: anthropicConversation,
  openai: openaiConversation,
  gemini: geminiConversation,
  responses: responsesConversation,
  kiro: kiroConversation,
}

/** Consecutive user turns as one, and consecutive assistant turns as one: protocols differ in how they split them */
function merged(turns: Turn[]): Turn[] {
  const out: Turn[] = []
  for (const turn of turns) {
    const last = out.at(-1)
    if (last?.role === 'user' && turn.role === 'user') last.texts = [...last.texts, ...turn.texts]
    else if (last?.role === 'assistant' && turn.role === 'assistant') {
      last.texts = [...last.texts, ...turn.texts]
      last.calls = [...last.calls, ...turn.calls]
    } else out.push(structuredClone(turn))
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// The upstreams, and what each is expected to receive.

/** How an upstream keeps a system message that comes after the conversation started */
type Placement = 'in place' | 'hoisted' | 'user reminder'

interface Upstream {
  type: string
  /** The model MODEL_ALIASES sends it, and the name it arrives under */
  model: string
  wireModel: string
  placement: Placement
  fake: () => FakeUpstream
}

let openai: FakeUpstream
let anthropic: FakeUpstream
let responses: FakeUpstream
let oauth: OAuthUpstreams
let proxy: TestProxy

const UPSTREAMS: Upstream[] = [
  {type: 'openai-custom', model: 'gpt-5.5', wireModel: 'gpt-5.5', placement: 'in place', fake: () => openai},
  {
    type: 'openaiResponses-custom',
    model: 'gpt-5.4',
    wireModel: 'gpt-5.4',
    placement: 'in place',
    fake: () => responses,
  },
  {
    type: 'claude-custom',
    model: 'claude-sonnet-4-6',
    wireModel: 'claude-sonnet-4-6',
    placement: 'hoisted',
    fake: () => anthropic,
  },
  {
    type: 'gemini-cli-oauth',
    model: 'gemini-2.5-pro',
    wireModel: 'gemini-2.5-pro',
    placement: 'hoisted',
    fake: () => oauth.codeAssist,
  },
  {
    type: 'claude-kiro-oauth',
    model: 'claude-sonnet-4-6',
    wireModel: 'claude-sonnet-4.6',
    placement: 'user reminder',
    fake: () => oauth.kiro as never,
  },
  {
    type: 'openai-qwen-oauth',
    model: 'qwen3-coder-plus',
    wireModel: 'qwen3-coder-plus',
    placement: 'in place',
    fake: () => oauth.portal,
  },
]

let every: EveryPoolType | undefined

beforeAll(async () => {
  every = await startEveryPoolType({MODEL_ALIASES: Object.fromEntries(UPSTREAMS.map((u) => [u.type, {'*': u.model}]))})
  ;({openai, anthropic, responses, oauth, proxy} = every)
})

afterAll(async () => {
  await every?.close()
})

/** The client's own headers, without its key and those that describe the captured connection */
function replayHeaders(f: Fixture): Record<string, string> {
  const dropped = [
    'host',
    'content-length',
    'connection',
    'accept-encoding',
    'authorization',
    'x-api-key',
    'x-goog-api-key',
  ]
  return Object.fromEntries(Object.entries(f.headers).filter(([name]) => !dropped.includes(name)))
}

/** What the client asked of thinking, in the terms the checks below expect per upstream */
type ThinkingAsk = 'adaptive, medium effort' | 'budget 31999' | 'level HIGH' | 'none'

function thinkingAsk(f: Fixture): ThinkingAsk {
  const b = f.body
  if (b.thinking?.type === 'adaptive' && b.output_config?.effort === 'medium') return 'adaptive, medium effort'
  if (b.thinking?.type === 'enabled' && b.thinking.budget_tokens === 31999) return 'budget 31999'
  if (b.generationConfig?.thinkingConfig?.thinkingLevel === 'HIGH') return 'level HIGH'
  expect(b.thinking ?? b.generationConfig?.thinkingConfig ?? b.reasoning_effort).toBeUndefined()
  return 'none'
}

/** The effort an OpenAI upstream gets for each ask */
const EFFORT: Record<ThinkingAsk, string | undefined> = {
  'adaptive, medium effort': 'medium',
  'budget 31999': 'high',
  'level HIGH': 'high',
  none: undefined,
}

/** The budget a Gemini upstream gets (and Kiro's max_thinking_length, capped at 24576) */
const BUDGET: Record<ThinkingAsk, number | undefined> = {
  'adaptive, medium effort': 8192,
  'budget 31999': 31999,
  'level HIGH': 24576,
  none: undefined,
}

/** The client's max tokens: Anthropic and OpenAI `max_tokens`, Gemini `maxOutputTokens` */
const clientMaxTokens = (f: Fixture): number | undefined =>
  f.body.max_tokens ?? f.body.generationConfig?.maxOutputTokens

const clientStreams = (f: Fixture): boolean =>
  f.protocol === 'gemini' ? f.path.includes(':streamGenerateContent') : f.body.stream === true

/** Keys that only one protocol uses: seen in another protocol's upstream body, they leaked */
const MARKERS: Record<Protocol, string[]> = {
  anthropic: ['cache_control', 'context_management', 'output_config', 'input_schema', 'tool_use_id', 'budget_tokens'],
  openai: ['tool_call_id', 'tool_calls', 'stream_options', 'reasoning_effort', 'max_completion_tokens'],
  gemini: ['functionDeclarations', 'parametersJsonSchema', 'thoughtSignature', 'thinkingConfig', 'generationConfig'],
  responses: ['function_call_output', 'call_id', 'max_output_tokens', 'instructions'],
  kiro: ['conversationState', 'userInputMessage', 'toolUseId'],
}

/** Every key of a body, outside tool schemas and call arguments (whose keys are the client's to name) */
function keysOf(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, out)
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k)
      if (!['tools', 'input', 'args', 'json', 'properties'].includes(k)) keysOf(v, out)
    }
  }
  return out
}

/** Each expected text appears in the actual ones, in order */
function expectTextsInOrder(actual: string[], expected: string[], where: string): void {
  const all = actual.join('\n')
  let from = 0
  for (const text of expected) {
    const at = all.indexOf(text, from)
    expect(at, `${where}: ${JSON.stringify(text)} in ${JSON.stringify(all)}`).toBeGreaterThanOrEqual(0)
    from = at + text.length
  }
}

function expectSameTurns(actual: Turn[], expected: Turn[]): void {
  expect(actual.map((t) => t.role)).toEqual(expected.map((t) => t.role))
  for (const [i, want] of expected.entries()) {
    const got = actual[i]!
    if (want.role === 'tool') expect(got).toEqual(want)
    else expectTextsInOrder((got as {texts: string[]}).texts, want.texts, `turn ${i} (${want.role})`)
    if (want.role === 'assistant') expect((got as {calls: Call[]}).calls).toEqual(want.calls)
  }
}

/** The conversation the upstream should get: the client's, with its system messages where the upstream keeps them */
function expectedConversation(client: Conversation, u: Upstream, ask: ThinkingAsk): Conversation {
  const systemTurns = client.turns.filter((t) => t.role === 'system') as Array<{texts: string[]}>
  if (u.placement === 'in place') return client
  if (u.placement === 'hoisted') {
    return {
      ...client,
      system: [...client.system, ...systemTurns.flatMap((t) => t.texts)],
      turns: client.turns.filter((t) => t.role !== 'system'),
    }
  }
  // Kiro: the thinking switch and the system text lead the first user message; a later system message is user
  // text in its place, marked as Claude Code marks its own notes.
  const turns = client.turns.map((t): Turn =>
    t.role === 'system' ? {role: 'user', texts: [`<system-reminder>\n${t.texts.join('')}\n</system-reminder>`]} : t,
  )
  const first = turns.findIndex((t) => t.role === 'user')
  const prefix = BUDGET[ask] === undefined ? [] : [thinkingPrefix(ask)]
  turns[first] = {role: 'user', texts: [...prefix, ...client.system, ...(turns[first] as {texts: string[]}).texts]}
  return {...client, system: [], turns}
}

const thinkingPrefix = (ask: ThinkingAsk): string =>
  `<thinking_mode>enabled</thinking_mode><max_thinking_length>${Math.min(BUDGET[ask]!, 24576)}</max_thinking_length>`

/** Whether the request is the second leg of a tool loop: its last turn holds tool results */
const inToolLoop = (client: Conversation): boolean => client.turns.at(-1)?.role === 'tool'

/** Where each upstream carries the tool choice, and what opencode's `auto` becomes there (Kiro has none) */
const TOOL_CHOICE: Record<string, {read: (body: any) => unknown; auto: unknown}> = {
  'openai-custom': {read: (body) => body.tool_choice, auto: 'auto'},
  'openai-qwen-oauth': {read: (body) => body.tool_choice, auto: 'auto'},
  'openaiResponses-custom': {read: (body) => body.tool_choice, auto: 'auto'},
  'claude-custom': {read: (body) => body.tool_choice, auto: {type: 'auto'}},
  'gemini-cli-oauth': {read: (body) => body.request.toolConfig, auto: {functionCallingConfig: {mode: 'AUTO'}}},
  'claude-kiro-oauth': {read: (body) => /"tool_?[cC]hoice"/.exec(JSON.stringify(body))?.[0], auto: undefined},
}

function checkSettings(f: Fixture, u: Upstream, request: RecordedRequest, client: Conversation): void {
  const body = request.body
  const ask = thinkingAsk(f)
  const max = clientMaxTokens(f)
  const stream = clientStreams(f)
  const auto = f.body.tool_choice === 'auto' || f.body.tool_choice?.type === 'auto'
  const choice = TOOL_CHOICE[u.type]!
  expect(choice.read(body)).toEqual(auto ? choice.auto : undefined)
  switch (u.type) {
    case 'openai-custom':
    case 'openai-qwen-oauth': {
      expect(body.reasoning_effort).toBe(EFFORT[ask])
      // OpenAI's reasoning models take only max_completion_tokens; OpenAI-compatible ones max_tokens.
      const field = u.type === 'openai-custom' ? 'max_completion_tokens' : 'max_tokens'
      expect(body[field]).toBe(max)
      expect(body.stream).toBe(stream ? true : undefined)
      expect(body.stream_options).toEqual(stream ? {include_usage: true} : undefined)
      break
    }
    case 'openaiResponses-custom':
      expect(body.reasoning).toEqual(EFFORT[ask] === undefined ? undefined : {effort: EFFORT[ask], summary: 'auto'})
      expect(body.include).toEqual(EFFORT[ask] === undefined ? undefined : ['reasoning.encrypted_content'])
      expect(body.max_output_tokens).toBe(max)
      expect(body.stream).toBe(stream ? true : undefined)
      expect(body.store).toBe(false)
      break
    case 'claude-custom': {
      // Anthropic needs max_tokens: without the client's, the model's default plus the thinking budget. Thinking
      // gives way in a tool loop whose assistant turn carries no signed thinking block (a Gemini client's).
      const thinking = ask === 'none' || inToolLoop(client) ? undefined : BUDGET[ask]
      expect(body.thinking).toEqual(thinking === undefined ? undefined : {type: 'enabled', budget_tokens: thinking})
      expect(body.max_tokens).toBe(max ?? 8192 + (thinking ?? 0))
      expect(body.stream).toBe(stream ? true : undefined)
      break
    }
    case 'gemini-cli-oauth': {
      const config = body.request.generationConfig ?? {}
      const budget = BUDGET[ask]
      expect(config.thinkingConfig).toEqual(
        budget === undefined ? undefined : {thinkingBudget: budget, includeThoughts: true},
      )
      // gemini-2.5-pro writes at most 65536 tokens; Vertex refuses a request for more (Claude Code asks 128000).
      expect(config.maxOutputTokens).toBe(max === undefined ? undefined : Math.min(max, 65536))
      expect(request.route).toBe(stream ? 'streamGenerateContent' : 'generateContent')
      expect(body.project).toBe('fake-project-123')
      break
    }
    case 'claude-kiro-oauth': {
      // Kiro takes no max tokens, and thinking only as the prefix checked with the first user turn.
      const current = body.conversationState.currentMessage.userInputMessage
      expect(current.modelId).toBe(u.wireModel)
      expect(JSON.stringify(body)).not.toContain('max_tokens')
      break
    }
  }
}

/** A schema with every `type` lower-cased, as JSON Schema wants it */
function lowerTypes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerTypes)
  if (!value || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'type' && typeof v === 'string' ? v.toLowerCase() : lowerTypes(v)]),
  )
}

/** A Gemini client's JSON mode with a schema, in each upstream's own field, with JSON Schema's lower-case types */
function checkResponseFormat(f: Fixture, u: Upstream, body: any): void {
  const jsonSchema = f.body.generationConfig?.responseJsonSchema
  if (jsonSchema === undefined) return
  const schema = lowerTypes(jsonSchema)
  expect(schema).not.toEqual(jsonSchema)
  if (u.type === 'openai-custom' || u.type === 'openai-qwen-oauth') {
    expect(body.response_format).toEqual({type: 'json_schema', json_schema: {name: 'response', schema}})
  }
  if (u.type === 'openaiResponses-custom') {
    expect(body.text).toEqual({format: {type: 'json_schema', name: 'response', schema}})
  }
  if (u.type === 'claude-custom') expect(body.output_config).toEqual({format: {type: 'json_schema', schema}})
}

/** Anthropic thinking signatures and Gemini thought signatures in a client's request */
function signaturesOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) signaturesOf(v, out)
  else if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>
    if (node.type === 'thinking' && typeof node.signature === 'string') out.push(node.signature)
    if (typeof node.thoughtSignature === 'string') out.push(node.thoughtSignature)
    for (const v of Object.values(node)) signaturesOf(v, out)
  }
  return out
}

function checkNoLeaks(f: Fixture, u: Upstream, request: RecordedRequest, protocol: Protocol): void {
  // A signature is only valid for the vendor that made it: another protocol's upstream never sees one.
  for (const signature of signaturesOf(f.body)) expect(request.rawBody).not.toContain(signature)
  const keys = keysOf(request.body)
  for (const [other, markers] of Object.entries(MARKERS)) {
    if (other === protocol) continue
    for (const key of markers) expect(keys.has(key), `${other} key ${key} in a ${protocol} body`).toBe(false)
  }
  // The client's own headers stay with the client when the protocol changes.
  const headers = Object.keys(request.headers)
  for (const name of headers) {
    expect(name).not.toMatch(/^(x-stainless-|anthropic-beta$|x-claude-code-|x-app$|x-goog-api-client$|x-session-)/)
  }
  if (f.headers['user-agent']) expect(request.headers['user-agent']).not.toBe(f.headers['user-agent'])
}

// ---------------------------------------------------------------------------------------------------------------

/** The same protocol both sides: the request passes through, with the aliased model */
function samePassage(f: Fixture, u: Upstream): boolean {
  return (
    (f.protocol === 'anthropic' && u.type === 'claude-custom') ||
    (f.protocol === 'gemini' && u.type === 'gemini-cli-oauth') ||
    (f.protocol === 'openai' && (u.type === 'openai-custom' || u.type === 'openai-qwen-oauth'))
  )
}

/** What each capture holds, as the readers above see it: the checks below compare against these readings */
const READINGS: Record<string, {roles: string[]; calls: string[][]; tools: number; system: number}> = {
  'claude-code-2.1.332-tool-loop-first-request.json': {roles: ['user', 'system'], calls: [], tools: 12, system: 3},
  'claude-code-2.1.332-tool-loop-write-result.json': {
    roles: ['user', 'system', 'assistant', 'tool'],
    calls: [['toolu_rec_call_1', 'Write']],
    tools: 12,
    system: 3,
  },
  'claude-code-2.1.332-tool-loop-omitted-thinking.json': {
    roles: ['user', 'system', 'assistant', 'tool'],
    calls: [['toolu_rec_call_1', 'Write']],
    tools: 12,
    system: 3,
  },
  'claude-code-2.1.335-opus-retry-without-system-message.json': {roles: ['user'], calls: [], tools: 12, system: 3},
  'claude-code-2.1.335-opus-turn.json': {roles: ['user', 'system'], calls: [], tools: 12, system: 3},
  'claude-code-2.1.335-sonnet-4-5-turn.json': {roles: ['user'], calls: [], tools: 12, system: 3},
  'gemini-cli-0.61.0-router-classifier.json': {roles: ['user', 'user'], calls: [], tools: 0, system: 1},
  'gemini-cli-0.61.0-tool-loop-function-response.json': {
    roles: ['user', 'assistant', 'tool'],
    calls: [['list_directory_1796395842839_0', 'list_directory']],
    tools: 8,
    system: 1,
  },
  'gemini-cli-0.61.0-turn.json': {roles: ['user'], calls: [], tools: 8, system: 1},
  'opencode-1.18.33-anthropic-tool-result.json': {
    roles: ['user', 'assistant', 'tool'],
    calls: [['toolu_rec_call_2', 'read']],
    tools: 10,
    system: 1,
  },
  'opencode-1.18.33-anthropic-title-request.json': {roles: ['user'], calls: [], tools: 0, system: 1},
  'opencode-1.18.33-openai-title-request.json': {roles: ['user', 'user'], calls: [], tools: 0, system: 1},
  'opencode-1.18.33-openai-tool-result.json': {
    roles: ['user', 'assistant', 'tool'],
    calls: [['call_rec_call_2', 'read']],
    tools: 10,
    system: 1,
  },
  'opencode-1.18.33-openai-turn.json': {roles: ['user'], calls: [], tools: 10, system: 1},
  'qwen-code-0.24.4-memory-extraction.json': {roles: ['user', 'assistant', 'user'], calls: [], tools: 6, system: 1},
  'qwen-code-0.24.4-tool-loop-tool-result.json': {
    roles: ['user', 'assistant', 'tool'],
    calls: [['call_rec_call_1', 'read_file']],
    tools: 10,
    system: 1,
  },
  'qwen-code-0.24.4-turn.json': {roles: ['user'], calls: [], tools: 10, system: 1},
}

describe('the captures as their clients sent them', () => {
  it('every capture of these protocols is read here', () => {
    expect(FIXTURES.map((f) => f.file).sort()).toEqual(Object.keys(READINGS).sort())
  })

  it.each(FIXTURES)('$file', (f) => {
    const conversation = READERS[f.protocol](f.body)
    const reading = READINGS[f.file]!
    expect(conversation.turns.map((t) => t.role)).toEqual(reading.roles)
    const calls = conversation.turns.flatMap((t) => (t.role === 'assistant' ? t.calls : []))
    expect(calls.map((c) => [c.id, c.name])).toEqual(reading.calls)
    const results = conversation.turns.flatMap((t) => (t.role === 'tool' ? [t.id] : []))
    expect(results).toEqual(reading.calls.map(([id]) => id))
    expect(conversation.tools).toHaveLength(reading.tools)
    expect(conversation.system).toHaveLength(reading.system)
    for (const t of conversation.turns) {
      if (t.role === 'user' || t.role === 'system') expect(t.texts.join('')).not.toBe('')
    }
  })
})

describe.each(UPSTREAMS)('captured client requests through serve into $type', (u) => {
  it.each(FIXTURES)('$file', async (f) => {
    const fake = u.fake()
    fake.reset()
    fake.script.fallback = {kind: 'reply', reply: {text: 'Replayed.'}}
    const response = await post(`${proxy.url}/${u.type}${f.path}`, f.body, replayHeaders(f))
    const [request, ...more] = generations(fake)
    expect(more).toEqual([])
    expect(request?.model).toBe(u.wireModel)

    if (samePassage(f, u)) {
      if (f.protocol === 'gemini') {
        // Code Assist takes the Gemini request whole, wrapped with the model and the account's project.
        expect(request!.body).toMatchObject({model: u.model, project: 'fake-project-123'})
        expect(request!.body.request).toEqual(f.body)
      } else expect(request!.body).toEqual({...f.body, model: u.model})
      if (f.protocol === 'anthropic') {
        expect(request!.query).toEqual(Object.fromEntries(new URL(f.path, 'http://x').searchParams))
        expect(request!.headers['anthropic-beta']).toBe(f.headers['anthropic-beta'])
      }
      // Anthropic refuses a system message inside `messages` for most models, as the fake does: Claude Code then
      // retries without it (the retry fixture). Every other request is answered.
      const refused = u.type === 'claude-custom' && f.body.messages.some((m: any) => m.role === 'system')
      expect(response.status, response.text).toBe(refused ? 400 : 200)
      return
    }

    expect(response.status, response.text).toBe(200)
    // The client gets the answer the way it asked for it: a stream or one JSON body.
    const type = String(response.headers['content-type'])
    expect(type).toMatch(clientStreams(f) ? /^text\/event-stream/ : /^application\/json/)
    const client = READERS[f.protocol](f.body)
    const ask = thinkingAsk(f)
    const want = expectedConversation(client, u, ask)
    const got = READERS[fake.protocol](request!.body)
    expect(got.system.join('\n\n')).toBe(want.system.join('\n\n'))
    expectSameTurns(merged(got.turns), merged(want.turns))
    expect(got.tools).toEqual(want.tools)
    checkSettings(f, u, request!, client)
    checkResponseFormat(f, u, request!.body)
    checkNoLeaks(f, u, request!, fake.protocol)
  })
})
