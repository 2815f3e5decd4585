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
  const model = c.model ?? 'claude-sonnet-4-5'
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
