import {describe, expect, it} from 'vitest'
import {codecs} from './index.js'

describe('errorBody', () => {
  it.each([
    [400, 'invalid_request_error', null],
    [401, 'invalid_request_error', 'invalid_api_key'],
    [404, 'invalid_request_error', 'model_not_found'],
    [429, 'requests', 'rate_limit_exceeded'],
    [500, 'server_error', null],
    [503, 'server_error', null],
  ])('OpenAI %i → type %s, code %s', (status, type, code) => {
    expect(codecs.openai.errorBody(status, 'boom')).toEqual({error: {message: 'boom', type, param: null, code}})
  })

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [402, 'billing_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
    [418, 'invalid_request_error'],
    [502, 'api_error'],
  ])('Anthropic %i → %s', (status, type) => {
    expect(codecs.anthropic.errorBody(status, 'boom')).toEqual({
      type: 'error',
      error: {type, message: 'boom'},
      request_id: expect.stringMatching(/^req_011C[0-9A-Za-z]{20}$/),
    })
  })

  it.each([
    [400, 'INVALID_ARGUMENT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
    [429, 'RESOURCE_EXHAUSTED'],
    [499, 'CANCELLED'],
    [500, 'INTERNAL'],
    [503, 'UNAVAILABLE'],
    [504, 'DEADLINE_EXCEEDED'],
  ])('Gemini %i → %s', (status, name) => {
    expect(codecs.gemini.errorBody(status, 'boom')).toEqual({error: {code: status, message: 'boom', status: name}})
  })
})

describe('streamErrorEvent', () => {
  it('writes each protocol’s in-stream error frame', () => {
    expect(codecs.openai.streamErrorEvent('Overloaded', 503)).toBe(
      'data: {"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}}\n\n',
    )
    expect(codecs.anthropic.streamErrorEvent('Overloaded', 529)).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    )
    expect(codecs.gemini.streamErrorEvent('Quota', 429)).toBe(
      'data: {"error":{"code":429,"message":"Quota","status":"RESOURCE_EXHAUSTED"}}\n\n',
    )
  })

  it('defaults to a server error', () => {
    expect(codecs.anthropic.streamErrorEvent('x')).toContain('"api_error"')
    expect(codecs.gemini.streamErrorEvent('x')).toContain('"INTERNAL"')
  })

  it('round-trips through the same protocol’s stream decoder with its status', () => {
    for (const protocol of ['openai', 'anthropic', 'gemini'] as const) {
      const decoder = codecs[protocol].createStreamDecoder()
      const frame = new TextEncoder().encode(codecs[protocol].streamErrorEvent('Slow down', 429))
      const events = [...decoder.push(frame), ...decoder.end()]
      expect(events).toEqual([{type: 'error', message: 'Slow down', kind: 'rate_limit', status: 429}])
    }
  })
})

describe('modelList', () => {
  const ids = ['gpt-4o-mini', 'claude-sonnet-4-6']

  it('lists models in the OpenAI format', () => {
    expect(codecs.openai.modelList(ids)).toEqual({
      object: 'list',
      data: [
        {id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'aiclient'},
        {id: 'claude-sonnet-4-6', object: 'model', created: 0, owned_by: 'aiclient'},
      ],
    })
  })

  it('lists models in the Anthropic format', () => {
    expect(codecs.anthropic.modelList(ids)).toEqual({
      data: [
        {type: 'model', id: 'gpt-4o-mini', display_name: 'gpt-4o-mini', created_at: '1970-01-01T00:00:00Z'},
        {type: 'model', id: 'claude-sonnet-4-6', display_name: 'claude-sonnet-4-6', created_at: '1970-01-01T00:00:00Z'},
      ],
      has_more: false,
      first_id: 'gpt-4o-mini',
      last_id: 'claude-sonnet-4-6',
    })
    expect(codecs.anthropic.modelList([])).toEqual({data: [], has_more: false, first_id: null, last_id: null})
  })

  it('lists models in the Gemini format', () => {
    expect(codecs.gemini.modelList(['gemini-2.5-flash'])).toEqual({
      models: [
        {
          name: 'models/gemini-2.5-flash',
          displayName: 'gemini-2.5-flash',
          supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
        },
      ],
    })
  })
})
