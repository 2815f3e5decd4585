import {describe, expect, it} from 'vitest'
import type {RequestRecord} from '../proxy/types.js'
import {rememberSecrets} from '../secrets.js'
import {requestLogLine, maskSecretFields} from './line.js'

const RECORD: RequestRecord = {
  time: Date.UTC(2026, 11, 4, 12, 0, 0, 5),
  route: '/v1/messages',
  protocol: 'anthropic',
  type: 'claude-custom',
  fallbackFrom: 'claude-kiro-oauth',
  instance: 'work',
  instanceId: 'claude-custom/abc',
  model: 'claude-opus',
  upstreamModel: 'claude-opus-4-8',
  status: 200,
  ms: 812,
  attempts: 2,
  stream: true,
  ttftMs: 95,
  usage: {input: 12, output: 40, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: false},
}

describe('requestLogLine', () => {
  it('is one JSON object with every field the record has, the time in ISO form', () => {
    const line = requestLogLine(RECORD)
    expect(line).not.toContain('\n')
    expect(JSON.parse(line)).toEqual({...RECORD, time: '2026-12-04T12:00:00.005Z'})
  })

  it('leaves out what a record does not have', () => {
    const line = JSON.parse(
      requestLogLine({
        time: 0,
        route: '/nope',
        protocol: 'openai',
        type: null,
        instance: null,
        model: '-',
        status: 404,
        ms: 0,
        attempts: 0,
        stream: false,
        error: 'Unknown route GET /nope.',
      }),
    )
    expect(Object.keys(line)).toEqual([
      'time',
      'route',
      'protocol',
      'type',
      'instance',
      'model',
      'status',
      'attempts',
      'ms',
      'stream',
      'error',
    ])
  })

  it('masks every secret the process holds, wherever it is quoted', () => {
    const secret = 'sk-line-test-secret-0123456789'
    rememberSecrets('test/line', [secret])
    const line = requestLogLine(
      {...RECORD, error: `upstream said: bad key ${secret}`},
      {
        request: {text: JSON.stringify({messages: [{content: `my key is ${secret}`}]}), truncated: false},
        response: {text: `data: {"text":"${secret}"}\n\n`, truncated: false},
      },
    )
    expect(line).not.toContain(secret)
    expect(line).toContain('sk-…6789')
  })

  it('carries the bodies as text, and says when one was cut short', () => {
    const line = JSON.parse(
      requestLogLine(RECORD, {
        request: {text: '{"model":"m"}', truncated: true},
        response: {text: 'data: {"x":1}\n\n', truncated: false},
      }),
    )
    expect(line.requestBody).toBe('{"model":"m"}')
    expect(line.requestBodyTruncated).toBe(true)
    expect(line.responseBody).toBe('data: {"x":1}\n\n')
    expect(line).not.toHaveProperty('responseBodyTruncated')
  })

  it('escapes what a terminal showing the file would act on, and parses back to the same text', () => {
    const model = 'a\u2028b\u202ec\u0085d'
    const line = requestLogLine({...RECORD, model})
    expect(line).not.toMatch(/[\u2028\u202e\u0085]/)
    expect(line).toContain('a\\u2028b\\u202ec\\u0085d')
    expect(JSON.parse(line).model).toBe(model)
  })
})

describe('maskSecretFields', () => {
  it('masks the string values of secret-named fields, in JSON and in JSON quoted inside a string', () => {
    const text = JSON.stringify({
      api_key: 'plain-unknown-value-1234',
      nested: {'x-api-key': 'short', access_token: 'tok-unknown-abcdefgh', key: 'AIzaUnknownKey12345678'},
      max_tokens: 100,
      token_type: 'Bearer',
      arguments: JSON.stringify({password: 'hunter2-hunter2', city: 'Paris'}),
    })
    const masked = maskSecretFields(text)
    for (const value of [
      'plain-unknown-value-1234',
      'tok-unknown-abcdefgh',
      'AIzaUnknownKey12345678',
      'hunter2-hunter2',
    ])
      expect(masked).not.toContain(value)
    const parsed = JSON.parse(masked)
    expect(parsed.api_key).toBe('…1234')
    expect(parsed.nested['x-api-key']).toBe('****')
    expect(parsed.max_tokens).toBe(100)
    expect(parsed.token_type).toBe('Bearer')
    expect(JSON.parse(parsed.arguments)).toEqual({password: '…ter2', city: 'Paris'})
  })
})
