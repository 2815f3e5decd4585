// Current Anthropic request shapes (Claude Code 2.1.x) converted for every upstream: the captured requests in
// test/fixtures/clients are decoded with the Anthropic codec and encoded by each other codec, field by field.
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {encodeCodeAssistRequest} from './code-assist/envelope.js'
import {codecs} from './index.js'
import type {IRRequest} from './ir.js'
import {encodeKiroRequest} from './kiro/request.js'
import type {Protocol} from './types.js'

type Json = Record<string, any>

interface Capture {
  path: string
  headers: Record<string, string>
  body: Json
}

function capture(name: string): Capture {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/clients/${name}.json`, import.meta.url), 'utf8'))
}

function decode(body: unknown, dropped: string[] = []): IRRequest {
  return codecs.anthropic.decodeRequest(body, {onDropped: (field) => dropped.push(field)})
}

function encode(to: Protocol | 'kiro' | 'code-assist', ir: IRRequest, dropped: string[] = []): Json {
  const onDropped = (field: string) => dropped.push(field)
  if (to === 'kiro') return encodeKiroRequest(ir, {conversationId: 'c', modelId: 'm', onDropped}).body
  if (to === 'code-assist') return encodeCodeAssistRequest(ir, {model: 'gemini-2.5-pro', project: 'p', onDropped})
  return codecs[to].encodeRequest(ir, {onDropped}) as Json
}

const text = (value: string) => ({type: 'text', text: value})
const base = {model: 'claude-opus-5-5', max_tokens: 1000}
// A system message between two turns, as current Claude Code may send it mid-conversation.
const midConversation = {
  ...base,
  system: 'S0',
  messages: [
    {role: 'user', content: 'U1'},
    {role: 'assistant', content: 'A1'},
    {role: 'system', content: [text('SYS')]},
    {role: 'user', content: 'U2'},
  ],
}

describe('a system message inside messages', () => {
  it('stays in place in the IR', () => {
    expect(decode(midConversation).messages).toEqual([
      {role: 'user', content: [text('U1')]},
      {role: 'assistant', content: [text('A1')]},
      {role: 'system', content: [text('SYS')]},
      {role: 'user', content: [text('U2')]},
    ])
  })

  it.each([
    [
      'openai',
      (out: Json) =>
        expect(out.messages).toEqual([
          {role: 'system', content: 'S0'},
          {role: 'user', content: 'U1'},
          {role: 'assistant', content: 'A1'},
          {role: 'system', content: 'SYS'},
          {role: 'user', content: 'U2'},
        ]),
    ],
    [
      'responses',
      (out: Json) => {
        expect(out.instructions).toBe('S0')
        expect(out.input.map((item: Json) => item.role)).toEqual(['user', 'assistant', 'developer', 'user'])
        expect(out.input[2]).toEqual({type: 'message', role: 'developer', content: [{type: 'input_text', text: 'SYS'}]})
      },
    ],
    [
      'gemini',
      (out: Json) => {
        expect(out.systemInstruction).toEqual({parts: [{text: 'S0'}, {text: 'SYS'}]})
        expect(out.contents).toEqual([
          {role: 'user', parts: [{text: 'U1'}]},
          {role: 'model', parts: [{text: 'A1'}]},
          {role: 'user', parts: [{text: 'U2'}]},
        ])
      },
    ],
    [
      'code-assist',
      (out: Json) => {
        expect(out.request.systemInstruction).toEqual({parts: [{text: 'S0'}, {text: 'SYS'}], role: 'user'})
        expect(out.request.contents.map((c: Json) => c.role)).toEqual(['user', 'model', 'user'])
      },
    ],
    [
      'anthropic',
      (out: Json) => {
        expect(out.system).toEqual([text('S0'), text('SYS')])
        expect(out.messages.map((m: Json) => m.role)).toEqual(['user', 'assistant', 'user'])
      },
    ],
    [
      'kiro',
      (out: Json) => {
        const {history, currentMessage} = out.conversationState
        expect(
          history.map((turn: Json) => turn.userInputMessage?.content ?? turn.assistantResponseMessage.content),
        ).toEqual(['S0\n\nU1', 'A1'])
        expect(currentMessage.userInputMessage.content).toBe('<system-reminder>\nSYS\n</system-reminder>\n\nU2')
      },
    ],
  ] as const)('reaches %s in place, or where its system text lives', (to, check) => {
    check(encode(to, decode(midConversation)))
  })
})

describe('thinking and effort', () => {
  const body = (extra: Json) => ({...base, messages: [{role: 'user', content: 'x'}], ...extra})
  it.each([
    [{thinking: {type: 'adaptive', display: 'omitted'}, output_config: {effort: 'medium'}}, 'medium', 'high', 8192],
    [{thinking: {type: 'adaptive'}, output_config: {effort: 'low'}}, 'low', 'low', 2048],
    [{thinking: {type: 'adaptive'}, output_config: {effort: 'max'}}, 'high', 'high', 24576],
    [{thinking: {type: 'adaptive'}}, 'medium', undefined, -1],
    [{output_config: {effort: 'high'}}, 'high', 'high', 24576],
    [{thinking: {type: 'enabled', budget_tokens: 31999, display: 'omitted'}}, 'high', 'high', 31999],
    [{thinking: {type: 'enabled', budget_tokens: 2000}}, 'low', 'low', 2000],
  ])('%j → reasoning_effort %s, Gemini 3 level %s, Gemini 2.5 budget %s', (extra, effort, level, budget) => {
    const ir = decode(body(extra))
    expect(encode('openai', ir).reasoning_effort).toBe(effort)
    expect(encode('responses', ir).reasoning.effort).toBe(effort)
    const gemini3 = encode('gemini', {...ir, model: 'gemini-3-pro-preview'}).generationConfig.thinkingConfig
    expect(gemini3.thinkingLevel).toBe(level)
    expect(gemini3).not.toHaveProperty('thinkingBudget')
    const gemini25 = encode('gemini', {...ir, model: 'gemini-2.5-pro'}).generationConfig.thinkingConfig
    expect(gemini25).toEqual({thinkingBudget: budget, includeThoughts: true})
  })

  it('gives Gemini 3 Flash its finer levels', () => {
    const ir = decode(body({thinking: {type: 'adaptive'}, output_config: {effort: 'medium'}}))
    expect(encode('gemini', {...ir, model: 'gemini-3-flash'}).generationConfig.thinkingConfig).toEqual({
      thinkingLevel: 'medium',
      includeThoughts: true,
    })
  })

  it('reports display as dropped, and refuses an unknown effort in Anthropic wording', () => {
    const dropped: string[] = []
    decode(body({thinking: {type: 'adaptive', display: 'summarized'}}), dropped)
    expect(dropped).toEqual(['thinking.display'])
    expect(() => decode(body({output_config: {effort: 'extreme'}}))).toThrow(
      "output_config.effort: Input should be 'low', 'medium', 'high' or 'max'",
    )
  })
})

describe('output_config.format', () => {
  const schema = {type: 'object', properties: {a: {type: 'string'}}, required: ['a'], additionalProperties: false}
  const anthropic = {
    ...base,
    messages: [{role: 'user', content: 'x'}],
    output_config: {format: {type: 'json_schema', schema}},
  }

  it('maps to response_format, text.format and responseSchema', () => {
    const ir = decode(anthropic)
    expect(encode('openai', ir).response_format).toEqual({
      type: 'json_schema',
      json_schema: {name: 'response', schema},
    })
    expect(encode('responses', ir).text).toEqual({format: {type: 'json_schema', name: 'response', schema}})
    const config = encode('gemini', ir).generationConfig
    expect(config.responseMimeType).toBe('application/json')
    expect(config.responseSchema).toMatchObject({type: 'object', required: ['a']})
  })

  it('comes back from OpenAI and Gemini as output_config.format', () => {
    const fromOpenAI = codecs.openai.decodeRequest({
      model: 'm',
      messages: [{role: 'user', content: 'x'}],
      response_format: {type: 'json_schema', json_schema: {name: 'r', schema}},
    })
    expect(encode('anthropic', fromOpenAI).output_config).toEqual({format: {type: 'json_schema', schema}})
    const fromGemini = codecs.gemini.decodeRequest(
      {
        contents: [{parts: [{text: 'x'}]}],
        generationConfig: {responseMimeType: 'application/json', responseJsonSchema: schema},
      },
      {model: 'g'},
    )
    expect(encode('anthropic', fromGemini).output_config).toEqual({format: {type: 'json_schema', schema}})
  })
})

describe('the captured Claude Code requests', () => {
  const opus = capture('claude-code-2.1.335-opus-turn')
  const [firstUser, systemMessage] = opus.body.messages as Json[]
  const systemText: string = systemMessage!.content[0].text

  it('decode with every field either kept or reported as dropped', () => {
    const dropped: string[] = []
    const ir = decode(opus.body, dropped)
    expect(ir.model).toBe('claude-opus-5-5')
    expect(ir.messages.map((m) => m.role)).toEqual(['user', 'system'])
    expect(ir.thinking).toEqual({type: 'effort', effort: 'medium'})
    expect(ir.maxTokens).toBe(128000)
    expect(ir.tools.length).toBe(opus.body.tools.length)
    expect(new Set(dropped)).toEqual(
      new Set(['context_management', 'thinking.display', 'messages.output_config', 'cache_control']),
    )
  })

  it.each(['openai', 'responses', 'gemini', 'code-assist', 'anthropic', 'kiro'] as const)(
    'converts for %s with the system message and every user text',
    (to) => {
      const out = JSON.stringify(encode(to, decode(opus.body)))
      expect(out).toContain(JSON.stringify(systemText).slice(1, -1))
      for (const block of firstUser!.content as Json[]) expect(out).toContain(JSON.stringify(block.text).slice(1, -1))
      for (const tool of opus.body.tools as Json[]) expect(out).toContain(`"${tool.name}"`)
    },
  )

  it('puts the system message last for OpenAI, after the user message, as Claude Code sent it', () => {
    const out = encode('openai', decode(opus.body))
    expect(out.messages.map((m: Json) => m.role)).toEqual(['system', 'user', 'system'])
    expect(out.messages[2]).toEqual({role: 'system', content: systemText})
    expect(out.reasoning_effort).toBe('medium')
    expect(out.max_tokens).toBe(128000)
    expect(out.tools).toHaveLength(opus.body.tools.length)
    expect(out.stream_options).toEqual({include_usage: true})
  })

  it('the Sonnet turn keeps its thinking budget', () => {
    const sonnet = capture('claude-code-2.1.335-sonnet-4-5-turn')
    const ir = decode(sonnet.body)
    expect(ir.thinking).toEqual({type: 'budget', budgetTokens: 31999})
    expect(encode('anthropic', ir).thinking).toEqual({type: 'enabled', budget_tokens: 31999})
  })
})
