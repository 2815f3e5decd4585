// What the proxy answers in each client protocol (answers.ts), checked against the vendor's own types: the
// non-streamed body, every stream event, the error bodies and the model list.
import {describe, expect, it} from 'vitest'
import {checkEveryAnswer, MODEL} from './answers.js'
import {typeCheck} from './typecheck.js'

describe('what the proxy answers fits the vendors’ own types', () => {
  checkEveryAnswer(['openai', 'responses', 'anthropic', 'gemini'], typeCheck)

  it('the check finds what breaks a type', () => {
    const toolUse = {type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {city: 'Paris'}}
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [toolUse],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {input_tokens: 1, output_tokens: 1},
    }
    const violations = typeCheck([
      {
        label: 'complete',
        type: 'AnthropicMessage',
        value: {...message, content: [{...toolUse, caller: {type: 'direct'}}]},
      },
      {label: 'tool_use without its caller', type: 'AnthropicMessage', value: message},
      {label: 'unknown finish reason', type: 'GeminiResponse', value: {candidates: [{finishReason: 'DONE'}]}},
      {
        label: 'unknown field',
        type: 'OpenAIError',
        value: {error: {message: 'm', type: 't', param: null, code: null, x: 1}},
      },
    ])
    expect([...new Set(violations.map((v) => v.label))]).toEqual([
      'tool_use without its caller',
      'unknown finish reason',
      'unknown field',
    ])
  })
})
