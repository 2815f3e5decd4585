import Anthropic from '@anthropic-ai/sdk'
import {GoogleGenAI, type Content} from '@google/genai'
import OpenAI from 'openai'
import {afterEach, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream, type ReplySpec} from '../../src/fakes/index.js'
import {claudeInstance, openaiInstance, startTestProxy, type TestProxy} from '../helpers/proxy.js'

const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city'], additionalProperties: false},
}
const TIME = {name: 'get_time', description: 'Local time', parameters: {type: 'object', properties: {tz: {type: 'string'}}, required: ['tz']}}

/** Step one of every conversation: text, then two parallel tool calls. Step two: the fake echoes the results. */
const CALLS: ReplySpec = {
  text: 'Checking both.',
  toolCalls: [
    {name: 'get_weather', arguments: {city: 'Paris'}},
    {name: 'get_time', arguments: {tz: 'Europe/Paris'}},
  ],
  usage: {input: 30, output: 12},
  chunkSize: 3,
}

let fake: FakeUpstream | undefined
let proxy: TestProxy | undefined

afterEach(async () => {
  await proxy?.cleanup()
  await fake?.close()
  proxy = undefined
  fake = undefined
})

const UPSTREAMS = [
  {type: 'openai-custom', start: () => startOpenAIFake({name: 'up', script: {queue: [{kind: 'reply', reply: CALLS}]}}), instance: openaiInstance},
  {type: 'claude-custom', start: () => startAnthropicFake({name: 'up', script: {queue: [{kind: 'reply', reply: CALLS}]}}), instance: claudeInstance},
] as const

async function setup(upstream: (typeof UPSTREAMS)[number]): Promise<string> {
  fake = await upstream.start()
  proxy = await startTestProxy({[upstream.type]: [upstream.instance(fake, 'up')]})
  return `${proxy.url}/${upstream.type}`
}

function expectResults(text: string): void {
  expect(text).toContain('tool result:')
  expect(text).toContain('21°C')
  expect(text).toContain('14:00')
}

describe.each(UPSTREAMS)('two-step tool use against $type', (upstream) => {
  for (const stream of [false, true]) {
    it(`openai SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
      const client = new OpenAI({apiKey: 'x', baseURL: `${await setup(upstream)}/v1`, maxRetries: 0})
      const tools = [WEATHER, TIME].map((f) => ({type: 'function' as const, function: f}))
      const messages: OpenAI.ChatCompletionMessageParam[] = [{role: 'user', content: 'Weather and time in Paris?'}]
      const first = stream
        ? await client.chat.completions.stream({model: 'm', messages, tools}).finalChatCompletion()
        : await client.chat.completions.create({model: 'm', messages, tools})
      const message = first.choices[0]!.message
      expect(first.choices[0]!.finish_reason).toBe('tool_calls')
      expect(message.content).toBe('Checking both.')
      expect(message.tool_calls?.map((c) => c.type === 'function' && [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
        ['get_weather', {city: 'Paris'}],
        ['get_time', {tz: 'Europe/Paris'}],
      ])
      const ids = message.tool_calls!.map((c) => c.id)
      expect(new Set(ids).size).toBe(2)
      messages.push(message, {role: 'tool', tool_call_id: ids[0]!, content: '21°C'}, {role: 'tool', tool_call_id: ids[1]!, content: '14:00'})
      const second = stream
        ? await client.chat.completions.stream({model: 'm', messages, tools}).finalChatCompletion()
        : await client.chat.completions.create({model: 'm', messages, tools})
      expect(second.choices[0]!.finish_reason).toBe('stop')
      expectResults(second.choices[0]!.message.content!)
      if (upstream.type === 'openai-custom') expect(fake!.requests[1]!.body.messages[1].tool_calls.map((c: {id: string}) => c.id)).toEqual(ids)
    })

    it(`anthropic SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
      const client = new Anthropic({apiKey: 'x', baseURL: await setup(upstream), maxRetries: 0})
      const tools = [WEATHER, TIME].map(({name, description, parameters}) => ({name, description, input_schema: parameters as Anthropic.Tool.InputSchema}))
      const messages: Anthropic.MessageParam[] = [{role: 'user', content: 'Weather and time in Paris?'}]
      const ask = () => (stream ? client.messages.stream({model: 'm', max_tokens: 200, messages, tools}).finalMessage() : client.messages.create({model: 'm', max_tokens: 200, messages, tools}))
      const first = await ask()
      expect(first.stop_reason).toBe('tool_use')
      expect(first.content[0]).toMatchObject({type: 'text', text: 'Checking both.'})
      const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')
      expect(uses.map((u) => [u.name, u.input])).toEqual([
        ['get_weather', {city: 'Paris'}],
        ['get_time', {tz: 'Europe/Paris'}],
      ])
      messages.push(
        {role: 'assistant', content: first.content},
        {role: 'user', content: [{type: 'tool_result', tool_use_id: uses[0]!.id, content: '21°C'}, {type: 'tool_result', tool_use_id: uses[1]!.id, content: '14:00'}]},
      )
      const second = await ask()
      expect(second.stop_reason).toBe('end_turn')
      expectResults(second.content.map((b) => (b.type === 'text' ? b.text : '')).join(''))
      if (upstream.type === 'claude-custom') expect(fake!.requests[1]!.body.messages[1].content[1].id).toBe(uses[0]!.id)
    })

    it(`@google/genai SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
      const ai = new GoogleGenAI({apiKey: 'x', httpOptions: {baseUrl: await setup(upstream)}})
      const config = {tools: [{functionDeclarations: [WEATHER, TIME].map(({name, description, parameters}) => ({name, description, parametersJsonSchema: parameters}))}]}
      const contents: Content[] = [{role: 'user', parts: [{text: 'Weather and time in Paris?'}]}]
      const ask = async () => {
        if (!stream) return ai.models.generateContent({model: 'gemini-test', contents, config})
        const chunks = []
        for await (const chunk of await ai.models.generateContentStream({model: 'gemini-test', contents, config})) chunks.push(chunk)
        const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? [])
        return {parts, finish: chunks.at(-1)?.candidates?.[0]?.finishReason, text: parts.map((p) => p.text ?? '').join('')}
      }
      const first = await ask()
      const parts = 'parts' in first ? first.parts : (first.candidates?.[0]?.content?.parts ?? [])
      const calls = parts.filter((p) => p.functionCall).map((p) => p.functionCall!)
      expect(calls.map((c) => [c.name, c.args])).toEqual([
        ['get_weather', {city: 'Paris'}],
        ['get_time', {tz: 'Europe/Paris'}],
      ])
      expect(parts.map((p) => p.text ?? '').join('')).toBe('Checking both.')
      contents.push(
        {role: 'model', parts},
        {role: 'user', parts: [{functionResponse: {name: 'get_weather', response: {result: '21°C'}}}, {functionResponse: {name: 'get_time', response: {result: '14:00'}}}]},
      )
      const second = await ask()
      const text = 'parts' in second ? second.text : second.text!
      expectResults(text)
      expect('parts' in second ? second.finish : second.candidates?.[0]?.finishReason).toBe('STOP')
    })
  }
})
