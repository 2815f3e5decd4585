import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {MODEL, requestScenarios, type Pair} from '../../../test/fixtures/codecs/requests.js'
import {CREATED, responseScenarios} from '../../../test/fixtures/codecs/responses.js'
import {codecs} from './index.js'
import type {Protocol} from './types.js'

const protocols: Protocol[] = ['openai', 'anthropic', 'gemini', 'responses']
const pairs = protocols.flatMap((from) => protocols.map((to) => [from, to] as const))

describe('request conversions', () => {
  for (const scenario of requestScenarios) {
    describe(scenario.name, () => {
      it.each(pairs)('%s → %s', (from, to) => {
        const ir = codecs[from].decodeRequest(scenario.wire[from], {model: MODEL, stream: scenario.stream ?? false})
        const expected = scenario.expected?.[`${from}->${to}` as Pair] ?? scenario.wire[to]
        expect(codecs[to].encodeRequest(ir)).toEqual(expected)
      })
    })
  }
})

describe('response conversions', () => {
  beforeEach(() => {
    vi.spyOn(Date, 'now').mockReturnValue(CREATED * 1000)
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  for (const scenario of responseScenarios) {
    describe(scenario.name, () => {
      it.each(pairs)('%s → %s', (from, to) => {
        const ir = codecs[from].decodeResponse(scenario.wire[from])
        const expected = scenario.expected?.[`${from}->${to}` as Pair] ?? scenario.wire[to]
        expect(codecs[to].encodeResponse(ir)).toEqual(expected)
      })
    })
  }
})

describe('response details', () => {
  it('reads `stop` after OpenAI tool calls as tool_use', () => {
    const body = {
      id: 'x',
      model: 'm',
      choices: [
        {
          message: {
            role: 'assistant',
            tool_calls: [{id: 'c', type: 'function', function: {name: 'f', arguments: '{}'}}],
          },
          finish_reason: 'stop',
        },
      ],
    }
    expect(codecs.anthropic.encodeResponse(codecs.openai.decodeResponse(body))).toMatchObject({stop_reason: 'tool_use'})
  })

  it('keeps the matched stop sequence for Anthropic and maps it to stop/STOP elsewhere', () => {
    const ir = codecs.anthropic.decodeResponse({
      id: 'msg',
      model: 'm',
      content: [{type: 'text', text: 'a'}],
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
      usage: {input_tokens: 1, output_tokens: 1},
    })
    expect(codecs.anthropic.encodeResponse(ir)).toMatchObject({stop_reason: 'stop_sequence', stop_sequence: 'END'})
    expect(codecs.openai.encodeResponse(ir)).toMatchObject({choices: [{finish_reason: 'stop'}]})
    expect(codecs.gemini.encodeResponse(ir)).toMatchObject({candidates: [{finishReason: 'STOP'}]})
  })

  it('maps Gemini thought and cached token counts to OpenAI usage details', () => {
    const ir = codecs.gemini.decodeResponse({
      candidates: [{content: {role: 'model', parts: [{text: 'a'}]}, finishReason: 'STOP'}],
      usageMetadata: {
        promptTokenCount: 100,
        candidatesTokenCount: 10,
        thoughtsTokenCount: 30,
        cachedContentTokenCount: 40,
      },
    })
    expect(codecs.openai.encodeResponse(ir)).toMatchObject({
      usage: {
        prompt_tokens: 100,
        completion_tokens: 40,
        total_tokens: 140,
        prompt_tokens_details: {cached_tokens: 40},
        completion_tokens_details: {reasoning_tokens: 30},
      },
    })
    expect(codecs.anthropic.encodeResponse(ir)).toMatchObject({
      usage: {input_tokens: 60, output_tokens: 40, cache_read_input_tokens: 40, cache_creation_input_tokens: 0},
    })
  })

  it('answers a blocked Gemini prompt with a content filter stop', () => {
    const blocked = {promptFeedback: {blockReason: 'SAFETY'}, usageMetadata: {promptTokenCount: 3}}
    const ir = codecs.gemini.decodeResponse(blocked)
    expect(ir).toMatchObject({content: [], stopReason: 'content_filter'})
    expect(codecs.openai.encodeResponse(ir)).toMatchObject({choices: [{finish_reason: 'content_filter'}]})
  })

  it('generates ids in the target style when the upstream sent none', () => {
    const ir = codecs.gemini.decodeResponse({candidates: [{content: {role: 'model', parts: [{text: 'a'}]}}]})
    expect(ir.id).toBeUndefined()
    expect(codecs.openai.encodeResponse(ir)).toMatchObject({id: expect.stringMatching(/^chatcmpl-/)})
    expect(codecs.anthropic.encodeResponse(ir)).toMatchObject({id: expect.stringMatching(/^msg_/)})
  })

  it('reports content blocks it cannot carry', () => {
    const dropped: string[] = []
    const ir = codecs.anthropic.decodeResponse(
      {
        id: 'msg',
        model: 'm',
        content: [
          {type: 'server_tool_use', id: 's', name: 'web_search', input: {}},
          {type: 'text', text: 'a'},
        ],
        stop_reason: 'end_turn',
        usage: {input_tokens: 1, output_tokens: 1},
      },
      {onDropped: (field) => dropped.push(field)},
    )
    expect(ir.content).toEqual([{type: 'text', text: 'a'}])
    expect(dropped).toEqual(['content.server_tool_use'])
  })
})
