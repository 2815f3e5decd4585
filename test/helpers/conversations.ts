import Anthropic from '@anthropic-ai/sdk'
import {GoogleGenAI, type Content} from '@google/genai'
import OpenAI from 'openai'
import {expect} from 'vitest'

export const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city'], additionalProperties: false},
}
export const TIME = {
  name: 'get_time',
  description: 'Local time',
  parameters: {type: 'object', properties: {tz: {type: 'string'}}, required: ['tz']},
}

export interface ToolConversation {
  /** Where the SDK points: the proxy's origin plus an optional provider-type prefix. */
  base: string
  stream: boolean
  tools: Array<typeof WEATHER | typeof TIME>
  /** The calls the model must make in step one, in order: [name, arguments]. */
  calls: Array<[string, Record<string, unknown>]>
  /** Text expected before the calls, when the upstream sends some. */
  preamble?: string
  /** What the client answers for each call, by tool name. */
  results: Record<string, string>
  /** The model asked for; each SDK has its own default otherwise. */
  model?: string
}

function expectAnswer(text: string, conversation: ToolConversation): void {
  for (const result of Object.values(conversation.results)) expect(text).toContain(result)
}

/** Step one: the model calls tools. Step two: the client sends the results back and the model answers. */
export async function openaiToolConversation(c: ToolConversation): Promise<{ids: string[]}> {
  const client = new OpenAI({apiKey: 'x', baseURL: `${c.base}/v1`, maxRetries: 0})
  const tools = c.tools.map((f) => ({type: 'function' as const, function: f}))
  const messages: OpenAI.ChatCompletionMessageParam[] = [{role: 'user', content: 'Please use the tools.'}]
  const ask = () =>
    c.stream
      ? client.chat.completions.stream({model: c.model ?? 'm', messages, tools}).finalChatCompletion()
      : client.chat.completions.create({model: c.model ?? 'm', messages, tools})
  const first = await ask()
  const message = first.choices[0]!.message
  expect(first.choices[0]!.finish_reason).toBe('tool_calls')
  if (c.preamble !== undefined) expect(message.content).toBe(c.preamble)
  expect(
    message.tool_calls?.map(
      (call) => call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)],
    ),
  ).toEqual(c.calls)
  const ids = message.tool_calls!.map((call) => call.id)
  expect(new Set(ids).size).toBe(ids.length)
  messages.push(
    message,
    ...message.tool_calls!.map((call) => ({
      role: 'tool' as const,
      tool_call_id: call.id,
      content: c.results[call.type === 'function' ? call.function.name : '']!,
    })),
  )
  const second = await ask()
  expect(second.choices[0]!.finish_reason).toBe('stop')
  expectAnswer(second.choices[0]!.message.content!, c)
  return {ids}
}

export async function anthropicToolConversation(c: ToolConversation): Promise<{ids: string[]}> {
  const client = new Anthropic({apiKey: 'x', baseURL: c.base, maxRetries: 0})
  const tools = c.tools.map(({name, description, parameters}) => ({
    name,
    description,
    input_schema: parameters as Anthropic.Tool.InputSchema,
  }))
  const messages: Anthropic.MessageParam[] = [{role: 'user', content: 'Please use the tools.'}]
  const model = c.model ?? 'claude-sonnet-4-6'
  const ask = () =>
    c.stream
      ? client.messages.stream({model, max_tokens: 200, messages, tools}).finalMessage()
      : client.messages.create({model, max_tokens: 200, messages, tools})
  const first = await ask()
  expect(first.stop_reason).toBe('tool_use')
  if (c.preamble !== undefined) expect(first.content[0]).toMatchObject({type: 'text', text: c.preamble})
  const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')
  expect(uses.map((u) => [u.name, u.input])).toEqual(c.calls)
  messages.push(
    {role: 'assistant', content: first.content},
    {
      role: 'user',
      content: uses.map((u) => ({type: 'tool_result' as const, tool_use_id: u.id, content: c.results[u.name]!})),
    },
  )
  const second = await ask()
  expect(second.stop_reason).toBe('end_turn')
  expectAnswer(second.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), c)
  return {ids: uses.map((u) => u.id)}
}

export async function geminiToolConversation(c: ToolConversation): Promise<void> {
  const ai = new GoogleGenAI({apiKey: 'x', httpOptions: {baseUrl: c.base}})
  const config = {
    tools: [
      {
        functionDeclarations: c.tools.map(({name, description, parameters}) => ({
          name,
          description,
          parametersJsonSchema: parameters,
        })),
      },
    ],
  }
  const contents: Content[] = [{role: 'user', parts: [{text: 'Please use the tools.'}]}]
  const model = c.model ?? 'gemini-2.5-flash'
  const ask = async () => {
    if (!c.stream) {
      const response = await ai.models.generateContent({model, contents, config})
      const parts = response.candidates?.[0]?.content?.parts ?? []
      return {parts, finish: response.candidates?.[0]?.finishReason}
    }
    const chunks = []
    for await (const chunk of await ai.models.generateContentStream({model, contents, config})) chunks.push(chunk)
    return {
      parts: chunks.flatMap((chunk) => chunk.candidates?.[0]?.content?.parts ?? []),
      finish: chunks.at(-1)?.candidates?.[0]?.finishReason,
    }
  }
  const first = await ask()
  const calls = first.parts.filter((p) => p.functionCall).map((p) => p.functionCall!)
  expect(calls.map((call) => [call.name, call.args])).toEqual(c.calls)
  if (c.preamble !== undefined) expect(first.parts.map((p) => p.text ?? '').join('')).toBe(c.preamble)
  contents.push(
    {role: 'model', parts: first.parts},
    {
      role: 'user',
      parts: calls.map((call) => ({functionResponse: {name: call.name, response: {result: c.results[call.name!]}}})),
    },
  )
  const second = await ask()
  expect(second.finish).toBe('STOP')
  expectAnswer(second.parts.map((p) => p.text ?? '').join(''), c)
}

type ResponsesEvent = OpenAI.Responses.ResponseStreamEvent

/**
 * Checks a Responses stream as the openai SDK handed it over: numbered from 0, created and in_progress first,
 * each output item added before its parts and done after them, deltas that add up to their `done` text, and a
 * final `response.completed` whose output is the items as they were done.
 */
export function expectResponsesGrammar(events: ResponsesEvent[]): void {
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
  expect(events.slice(0, 2).map((e) => e.type)).toEqual(['response.created', 'response.in_progress'])
  const last = events.at(-1)!
  expect(last.type).toBe('response.completed')
  const open = new Map<string, number>()
  const deltas = new Map<string, string>()
  const done: unknown[] = []
  for (const event of events.slice(2, -1)) {
    expect(event.type, 'a terminal event mid-stream').not.toMatch(/^response\.(created|in_progress|completed)$/)
    if (event.type === 'response.output_item.added') {
      expect(open.has(event.item.id!), `item ${event.item.id} added twice`).toBe(false)
      expect(event.output_index).toBe(done.length)
      open.set(event.item.id!, event.output_index)
    } else if (event.type === 'response.output_item.done') {
      expect(open.get(event.item.id!)).toBe(event.output_index)
      open.delete(event.item.id!)
      done.push(event.item)
      if (event.item.type === 'function_call') expect(deltas.get(event.item.id!) ?? '').toBe(event.item.arguments)
    } else if ('item_id' in event) {
      expect(open.get(event.item_id), `${event.type} outside its item`).toBe(event.output_index)
      const key = 'content_index' in event ? `${event.item_id}/${event.content_index}` : event.item_id
      if (event.type === 'response.output_text.delta' || event.type === 'response.function_call_arguments.delta')
        deltas.set(key, (deltas.get(key) ?? '') + event.delta)
      if (event.type === 'response.output_text.done') expect(deltas.get(key) ?? '').toBe(event.text)
      if (event.type === 'response.function_call_arguments.done') expect(deltas.get(key) ?? '').toBe(event.arguments)
    }
  }
  expect(open.size, 'items never done').toBe(0)
  expect(last.type === 'response.completed' && last.response.output).toEqual(done)
}

/** One Responses turn with the SDK, plain or streamed (the events checked against the grammar). */
async function responsesTurn(
  client: OpenAI,
  stream: boolean,
  body: OpenAI.Responses.ResponseCreateParamsNonStreaming & {stream?: never},
): Promise<OpenAI.Responses.Response> {
  if (!stream) return client.responses.create(body)
  const events: ResponsesEvent[] = []
  const running = client.responses.stream(body)
  for await (const event of running) events.push(event)
  expectResponsesGrammar(events)
  return running.finalResponse()
}

/** A Responses text turn: the answer's text. */
export async function responsesText(base: string, stream: boolean, model: string, text: string): Promise<string> {
  const client = new OpenAI({apiKey: 'x', baseURL: `${base}/v1`, maxRetries: 0})
  const response = await responsesTurn(client, stream, {model, input: text})
  expect(response.status).toBe('completed')
  return response.output_text
}

/**
 * The Responses API's tool round trip as Codex makes it with `store: false`: the calls come back as
 * `function_call` items, and the second request spells out the whole history in `input`, the first answer's items
 * followed by a `function_call_output` per call.
 */
export async function responsesToolConversation(c: ToolConversation): Promise<{ids: string[]}> {
  const client = new OpenAI({apiKey: 'x', baseURL: `${c.base}/v1`, maxRetries: 0})
  const tools = c.tools.map((f) => ({type: 'function' as const, strict: false, ...f}))
  const input: OpenAI.Responses.ResponseInputItem[] = [{role: 'user', content: 'Please use the tools.'}]
  const ask = () => responsesTurn(client, c.stream, {model: c.model ?? 'm', input, tools, store: false})
  const first = await ask()
  const calls = first.output.filter((i): i is OpenAI.Responses.ResponseFunctionToolCall => i.type === 'function_call')
  expect(calls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual(c.calls)
  if (c.preamble !== undefined) expect(first.output_text).toBe(c.preamble)
  const ids = calls.map((call) => call.call_id)
  expect(new Set(ids).size).toBe(ids.length)
  input.push(
    ...(first.output as OpenAI.Responses.ResponseInputItem[]),
    ...calls.map((call) => ({
      type: 'function_call_output' as const,
      call_id: call.call_id,
      output: c.results[call.name]!,
    })),
  )
  const second = await ask()
  expect(second.status).toBe('completed')
  expectAnswer(second.output_text, c)
  return {ids}
}
