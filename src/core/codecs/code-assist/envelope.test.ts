import {describe, expect, it} from 'vitest'

import {decodeGeminiResponse} from '../gemini-response.js'
import {encodeGeminiRequest} from '../gemini-request.js'
import type {IRRequest} from '../ir.js'
import {decodeCodeAssistResponse, encodeCodeAssistRequest, unwrapResponse, wrapGeminiBody} from './index.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const target = {model: 'gemini-2.5-pro', project: 'proj-123'}

const request: IRRequest = {
  model: 'client-model',
  system: [{type: 'text', text: 'Be brief.'}],
  messages: [
    {role: 'user', content: [{type: 'text', text: 'Weather in Paris?'}]},
    {role: 'assistant', content: [{type: 'tool_call', id: 'call_1', name: 'get_weather', input: {city: 'Paris'}}]},
    {
      role: 'user',
      content: [{type: 'tool_result', toolCallId: 'call_1', content: [{type: 'text', text: '21°C'}], isError: false}],
    },
  ],
  tools: [{name: 'get_weather', parameters: {type: 'object', properties: {city: {type: 'string'}}}}],
  temperature: 0.5,
  stop: [],
  stream: false,
  includeUsage: true,
}

const publicResponse = {
  candidates: [{content: {role: 'model', parts: [{text: 'It is 21°C.'}]}, finishReason: 'STOP', index: 0}],
  usageMetadata: {promptTokenCount: 40, candidatesTokenCount: 8, totalTokenCount: 48},
  modelVersion: 'gemini-2.5-pro',
  responseId: 'resp-1',
}

describe('encodeCodeAssistRequest', () => {
  it('envelopes the Gemini body with the model and project, and no model inside', () => {
    const envelope = encodeCodeAssistRequest(request, target)
    expect(Object.keys(envelope)).toEqual(['model', 'project', 'user_prompt_id', 'request'])
    expect(envelope).toMatchObject(target)
    expect(envelope.user_prompt_id).toMatch(UUID)
    const gemini = encodeGeminiRequest(request)
    expect(envelope.request).toEqual({...gemini, systemInstruction: {role: 'user', parts: [{text: 'Be brief.'}]}})
    expect(envelope.request).not.toHaveProperty('model')
    const contents = (envelope.request as {contents: {role: string}[]}).contents
    expect(contents.map((content) => content.role)).toEqual(['user', 'model', 'user'])
  })

  it('gives each request its own prompt id', () => {
    const [first, second] = [encodeCodeAssistRequest(request, target), encodeCodeAssistRequest(request, target)]
    expect(first.user_prompt_id).not.toBe(second.user_prompt_id)
  })

  it('reports what the Gemini encoder drops', () => {
    const dropped: string[] = []
    encodeCodeAssistRequest({...request, user: 'u-1'}, {...target, onDropped: (field) => dropped.push(field)})
    expect(dropped).toEqual(['user'])
  })

  it('leaves out a system instruction the request does not have', () => {
    expect(encodeCodeAssistRequest({...request, system: []}, target).request).not.toHaveProperty('systemInstruction')
  })
})

describe('wrapGeminiBody', () => {
  it('renames system_instruction, gives it and every content a role, and drops a model', () => {
    const body = {
      model: 'models/gemini-2.5-flash',
      contents: [
        {parts: [{text: 'hi'}]},
        {role: 'model', parts: [{text: 'hello'}]},
        {role: '', parts: [{text: 'again'}]},
      ],
      system_instruction: {parts: [{text: 'Be brief.'}]},
      generation_config: {max_output_tokens: 10},
    }
    const snapshot = structuredClone(body)
    const envelope = wrapGeminiBody(body, target)
    expect(envelope).toEqual({
      ...target,
      user_prompt_id: expect.stringMatching(UUID),
      request: {
        contents: [
          {role: 'user', parts: [{text: 'hi'}]},
          {role: 'model', parts: [{text: 'hello'}]},
          {role: 'user', parts: [{text: 'again'}]},
        ],
        systemInstruction: {role: 'user', parts: [{text: 'Be brief.'}]},
        generation_config: {max_output_tokens: 10},
      },
    })
    expect(body).toEqual(snapshot)
  })

  it('prefers the camelCase system instruction when a body has both spellings', () => {
    const body = {
      contents: [],
      systemInstruction: {role: 'system', parts: [{text: 'camel'}]},
      system_instruction: {parts: [{text: 'snake'}]},
    }
    const envelope = wrapGeminiBody(body, target)
    expect(envelope.request).toEqual({contents: [], systemInstruction: {role: 'user', parts: [{text: 'camel'}]}})
  })
})

describe('unwrapResponse', () => {
  it('returns the public response inside the envelope, keeping its own id', () => {
    expect(unwrapResponse({response: publicResponse, traceId: 'trace-1', consumedCredits: 1})).toEqual(publicResponse)
  })

  it('uses the trace id when the response has no id, as gemini-cli does', () => {
    const {responseId: _, ...withoutId} = publicResponse
    expect(unwrapResponse({response: withoutId, traceId: 'trace-1'})).toEqual({...withoutId, responseId: 'trace-1'})
  })

  it.each([
    [{traceId: 'trace-1'}, {candidates: [], responseId: 'trace-1'}],
    [{}, {candidates: []}],
    [null, {candidates: []}],
    [{response: 'nonsense'}, {candidates: []}],
  ])('reads %j as a response without candidates', (body, expected) => {
    expect(unwrapResponse(body)).toEqual(expected)
  })
})

describe('decodeCodeAssistResponse', () => {
  it('decodes what the Gemini decoder makes of the unwrapped response', () => {
    const decoded = decodeCodeAssistResponse({response: publicResponse, traceId: 'trace-1'})
    expect(decoded).toEqual(decodeGeminiResponse(publicResponse))
    expect(decoded).toMatchObject({id: 'resp-1', content: [{type: 'text', text: 'It is 21°C.'}]})
  })

  it('decodes a missing response as an empty answer', () => {
    const decoded = decodeCodeAssistResponse({traceId: 'trace-1'})
    expect(decoded).toMatchObject({id: 'trace-1', content: [], stopReason: 'end_turn'})
  })
})
