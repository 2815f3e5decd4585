// What the proxy answers in OpenAI's chat completions and Responses protocols (answers.ts), validated against the
// schemas of OpenAI's OpenAPI document (test/fixtures/openapi): bodies, stream events, errors and the model list.
import {describe, expect, it} from 'vitest'
import {checkEveryAnswer} from './answers.js'
import {validateOpenAPI} from './openapi.js'

describe('what the proxy answers fits OpenAI’s OpenAPI document', () => {
  const answers = checkEveryAnswer(['openai', 'responses'], validateOpenAPI)

  it('the model list is among the answers checked', () => {
    expect(answers().openai.filter((s) => s.type === 'OpenAIModelList')).toHaveLength(1)
  })

  it('the check finds what breaks a schema', () => {
    const chunk = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1767225600,
      model: 'm',
      choices: [{index: 0, delta: {content: 'Hi'}, finish_reason: null}],
    }
    const error = {error: {message: 'm', type: 't', param: null, code: null}}
    const violations = validateOpenAPI([
      {label: 'complete', type: 'OpenAIChatCompletionChunk', value: chunk},
      {label: 'created in milliseconds', type: 'OpenAIChatCompletionChunk', value: {...chunk, created: 1767225600000}},
      {
        label: 'unknown finish reason',
        type: 'OpenAIChatCompletionChunk',
        value: {...chunk, choices: [{...chunk.choices[0], finish_reason: 'done'}]},
      },
      {label: 'error', type: 'OpenAIError', value: error},
      {label: 'error without param', type: 'OpenAIError', value: {error: {message: 'm', type: 't', code: null}}},
      {
        label: 'unknown event',
        type: 'OpenAIResponseStreamEvent',
        value: {type: 'response.thinking', sequence_number: 1},
      },
      {
        label: 'text delta without its item',
        type: 'OpenAIResponseStreamEvent',
        value: {
          type: 'response.output_text.delta',
          sequence_number: 1,
          output_index: 0,
          content_index: 0,
          delta: 'Hi',
          logprobs: [],
        },
      },
    ])
    expect([...new Set(violations.map((v) => v.label))]).toEqual([
      'created in milliseconds',
      'unknown finish reason',
      'error without param',
      'unknown event',
      'text delta without its item',
    ])
  })
})
