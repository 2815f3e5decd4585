// Validation errors the proxy answers before any upstream is involved, in the wording and shape each vendor's
// API uses for the same mistake: clients key their retries and messages on them. Each row names its source.
import {describe, expect, it} from 'vitest'
import {CodecError, codecs, type Protocol} from '../../src/core/codecs/index.js'
import {openaiInstance, startTestProxy, useProxyHarness} from '../helpers/proxy.js'
import {startOpenAIFake} from '../fakes/index.js'

const user = {role: 'user', content: 'x'}

const WORDINGS: {protocol: Protocol; body: unknown; message: string; source: string}[] = [
  {
    protocol: 'anthropic',
    body: {model: 'm', max_tokens: 10, messages: [user, {role: 'tool', content: 'x'}]},
    message: "messages.1.role: Input should be 'user' or 'assistant'",
    source:
      'Anthropic API 400 recorded with Claude Code 2.1.335 (test/fixtures/clients/README.md); Claude Code retries ' +
      'without its system message on exactly this text',
  },
  {
    protocol: 'anthropic',
    body: {model: 'm', max_tokens: 10, messages: []},
    message: 'messages: at least one message is required',
    source: 'Anthropic API 400 for an empty messages array',
  },
  {
    protocol: 'anthropic',
    body: {model: 'm', max_tokens: 10, messages: [user], thinking: {type: 'enabled'}},
    message: 'thinking.enabled.budget_tokens: Field required',
    source: 'Anthropic API 400 (pydantic path of the tagged union member, "Field required")',
  },
  {
    protocol: 'anthropic',
    body: {model: 'm', max_tokens: 10, messages: [user], thinking: {type: 'on'}},
    message:
      "thinking: Input tag 'on' found using 'type' does not match any of the expected tags: 'disabled', 'enabled', " +
      "'adaptive'",
    source: 'Anthropic API 400 for an unknown tag of a tagged union (pydantic union_tag_invalid)',
  },
  {
    protocol: 'openai',
    body: {model: 'm', messages: [{role: 'robot', content: 'x'}]},
    message: "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.",
    source: "OpenAI chat completions 400 for an unknown role (code invalid_value); 'function' is not offered here",
  },
  {
    protocol: 'gemini',
    body: {contents: [{role: 'assistant', parts: [{text: 'x'}]}]},
    message: 'Please use a valid role: user, model.',
    source: 'Gemini API 400 INVALID_ARGUMENT (quoted in langgenius/dify-official-plugins#566)',
  },
]

function refusal(protocol: Protocol, body: unknown): CodecError {
  try {
    codecs[protocol].decodeRequest(body, {model: 'g'})
  } catch (error) {
    if (error instanceof CodecError) return error
    throw error
  }
  throw new Error('the request was accepted')
}

describe('validation errors in the vendor’s words', () => {
  it.each(WORDINGS)('$protocol: "$message" ($source)', ({protocol, body, message}) => {
    const error = refusal(protocol, body)
    expect(error.status).toBe(400)
    expect(error.message).toBe(message)
  })

  it.each([
    [
      'anthropic',
      {
        type: 'error',
        error: {type: 'invalid_request_error', message: 'm'},
        request_id: expect.stringMatching(/^req_011C[0-9A-Za-z]{20}$/),
      },
    ],
    ['openai', {error: {message: 'm', type: 'invalid_request_error', param: null, code: null}}],
    ['gemini', {error: {code: 400, message: 'm', status: 'INVALID_ARGUMENT'}}],
  ] as const)('%s 400 body has the vendor’s shape', (protocol, shape) => {
    expect(codecs[protocol].errorBody(400, 'm')).toEqual(shape)
  })
})

describe('through serve', () => {
  const h = useProxyHarness()

  it('an Anthropic client on a converted route gets Anthropic’s 400, request_id included', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
    const response = await fetch(`${h.proxy.url}/openai-custom/v1/messages`, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01'},
      body: JSON.stringify(WORDINGS[0]!.body),
    })
    expect(response.status).toBe(400)
    const body = await response.json()
    expect(body.error).toEqual({type: 'invalid_request_error', message: WORDINGS[0]!.message})
    expect(body.request_id).toMatch(/^req_011C/)
    expect(fake.requests).toHaveLength(0)
  })
})
