// One protocol-independent view of a request body a fake upstream received, so that tests can check what the
// proxy sent to every kind of upstream with the same assertions. Deliberately independent of the codecs in src.
import type {Protocol} from '../fakes/index.js'

export interface UpstreamView {
  /** System text: OpenAI system/developer messages, Anthropic `system`, Gemini `systemInstruction`; Kiro has none */
  system: string
  /** Text of every user turn, in order (for Kiro the system preamble is part of the first) */
  userTexts: string[]
  /** Names of the functions offered */
  tools: string[]
  /** Tool calls in the history, in order */
  calls: Array<{id?: string; name: string; arguments: unknown}>
  /** Tool results in the history, in order */
  results: Array<{id?: string; text: string}>
  /** Thinking in the history; `signature` where the protocol carries one */
  thinking: Array<{text: string; signature?: string}>
}

type Json = any // any: wire JSON of four protocols

const list = (v: unknown): Json[] => (Array.isArray(v) ? v : [])

/** Text of a string or of an array of text parts */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  return list(content)
    .map((p) => (typeof p?.text === 'string' ? p.text : ''))
    .join('')
}

function openaiView(body: Json): UpstreamView {
  const messages = list(body.messages)
  const of = (...roles: string[]) => messages.filter((m) => roles.includes(m.role))
  return {
    system: of('system', 'developer')
      .map((m) => textOf(m.content))
      .join('\n'),
    userTexts: of('user').map((m) => textOf(m.content)),
    tools: list(body.tools).map((t) => t.function?.name),
    calls: of('assistant')
      .flatMap((m) => list(m.tool_calls))
      .map((c) => ({id: c.id, name: c.function.name, arguments: JSON.parse(c.function.arguments || '{}')})),
    results: of('tool').map((m) => ({id: m.tool_call_id, text: textOf(m.content)})),
    thinking: of('assistant')
      .filter((m) => typeof m.reasoning_content === 'string')
      .map((m) => ({text: m.reasoning_content})),
  }
}

function anthropicView(body: Json): UpstreamView {
  const blocks = (role: string): Json[] =>
    list(body.messages)
      .filter((m) => m.role === role)
      .flatMap((m) => (typeof m.content === 'string' ? [{type: 'text', text: m.content}] : list(m.content)))
  const user = list(body.messages).filter((m) => m.role === 'user')
  return {
    system: textOf(body.system),
    userTexts: user
      .map((m) =>
        typeof m.content === 'string' ? m.content : textOf(list(m.content).filter((b) => b.type === 'text')),
      )
      .filter((t) => t !== ''),
    tools: list(body.tools).map((t) => t.name),
    calls: blocks('assistant')
      .filter((b) => b.type === 'tool_use')
      .map((b) => ({id: b.id, name: b.name, arguments: b.input})),
    results: blocks('user')
      .filter((b) => b.type === 'tool_result')
      .map((b) => ({id: b.tool_use_id, text: textOf(b.content)})),
    thinking: blocks('assistant')
      .filter((b) => b.type === 'thinking')
      .map((b) => ({text: b.thinking, signature: b.signature})),
  }
}

/** A Gemini functionResponse's `response`: `{output}` or `{error}` as text, anything else as JSON */
function responseText(response: Json): string {
  const value = response?.output ?? response?.error
  return typeof value === 'string' ? value : JSON.stringify(response)
}

function geminiView(wrapped: Json): UpstreamView {
  // Code Assist wraps the Gemini request in `request`.
  const body = wrapped.request && typeof wrapped.request === 'object' ? wrapped.request : wrapped
  const parts = (role: string): Json[] =>
    list(body.contents)
      .filter((c) => (c.role ?? 'user') === role)
      .flatMap((c) => list(c.parts))
  const model = parts('model')
  const signatures = model.map((p) => p.thoughtSignature).filter((s) => typeof s === 'string')
  return {
    system: textOf(body.systemInstruction?.parts),
    userTexts: list(body.contents)
      .filter((c) => (c.role ?? 'user') === 'user')
      .map((c) => textOf(list(c.parts).filter((p) => !p.thought)))
      .filter((t) => t !== ''),
    tools: list(body.tools).flatMap((t) => list(t.functionDeclarations).map((f) => f.name)),
    calls: model
      .filter((p) => p.functionCall)
      .map((p) => ({id: p.functionCall.id, name: p.functionCall.name, arguments: p.functionCall.args})),
    results: parts('user')
      .filter((p) => p.functionResponse)
      .map((p) => ({id: p.functionResponse.id, text: responseText(p.functionResponse.response)})),
    // Gemini puts the signature on the first function call (or text) after the thought, not on the thought.
    thinking: model.filter((p) => p.thought).map((p) => ({text: p.text, signature: signatures[0]})),
  }
}

function kiroView(body: Json): UpstreamView {
  const state = body.conversationState
  const history = list(state.history)
  const current = state.currentMessage.userInputMessage
  const users = [...history.map((h) => h.userInputMessage).filter(Boolean), current]
  const assistants = history.map((h) => h.assistantResponseMessage).filter(Boolean)
  return {
    system: '',
    userTexts: users.map((u) => String(u.content)),
    tools: list(current.userInputMessageContext?.tools).map((t) => t.toolSpecification?.name),
    calls: assistants
      .flatMap((a) => list(a.toolUses))
      .map((u) => ({id: u.toolUseId, name: u.name, arguments: u.input})),
    results: users
      .flatMap((u) => list(u.userInputMessageContext?.toolResults))
      .map((r) => ({id: r.toolUseId, text: textOf(r.content)})),
    thinking: [],
  }
}

function responsesView(body: Json): UpstreamView {
  const input =
    typeof body.input === 'string' ? [{type: 'message', role: 'user', content: body.input}] : list(body.input)
  const of = (type: string) => input.filter((i) => (i.type ?? 'message') === type)
  const messages = (...roles: string[]) => of('message').filter((m) => roles.includes(m.role))
  return {
    system: [
      typeof body.instructions === 'string' ? body.instructions : '',
      ...messages('system', 'developer').map((m) => textOf(m.content)),
    ]
      .filter(Boolean)
      .join('\n'),
    userTexts: messages('user').map((m) => textOf(m.content)),
    tools: list(body.tools)
      .filter((t) => t.type === 'function' || t.type === 'custom')
      .map((t) => t.name),
    calls: of('function_call').map((c) => ({id: c.call_id, name: c.name, arguments: JSON.parse(c.arguments || '{}')})),
    results: of('function_call_output').map((o) => ({id: o.call_id, text: textOf(o.output)})),
    thinking: of('reasoning').map((r) => ({
      text: textOf(r.summary) || textOf(r.content),
      ...(typeof r.encrypted_content === 'string' && {signature: r.encrypted_content}),
    })),
  }
}

const VIEWS: Record<Protocol, (body: Json) => UpstreamView> = {
  openai: openaiView,
  responses: responsesView,
  anthropic: anthropicView,
  gemini: geminiView,
  kiro: kiroView,
}

export function upstreamView(protocol: Protocol, body: unknown): UpstreamView {
  return VIEWS[protocol](body)
}
