import {describe, expect, it} from 'vitest'
import {EventTooLargeError} from '../codecs/sse.js'
import {classifyError, classifyStatus, upstreamErrorMessage} from './outcome.js'

const NOW = Date.parse('2026-12-03T12:00:00Z')

describe('classifyStatus', () => {
  it.each([
    [200, {kind: 'success'}],
    [429, {kind: 'rate_limited', retryAfterMs: null}],
    [401, {kind: 'auth'}],
    [403, {kind: 'auth'}],
    [402, {kind: 'quota', retryAfterMs: null}],
    [500, {kind: 'server', status: 500}],
    [529, {kind: 'server', status: 529}],
    [408, {kind: 'server', status: 408}],
    [409, {kind: 'server', status: 409}],
    [400, {kind: 'client_fault'}],
    [404, {kind: 'client_fault'}],
    [422, {kind: 'client_fault'}],
    [418, {kind: 'client_fault'}],
  ])('%i', (status, expected) => {
    expect(classifyStatus(status, {}, NOW)).toEqual(expected)
  })
})

describe('classifyError', () => {
  const coded = (code: string) => Object.assign(new Error(code), {code})
  it.each([
    ['UND_ERR_ABORTED', {kind: 'cancelled'}],
    ['UND_ERR_CONNECT_TIMEOUT', {kind: 'timeout', phase: 'connect'}],
    ['UND_ERR_HEADERS_TIMEOUT', {kind: 'timeout', phase: 'headers'}],
    ['UND_ERR_BODY_TIMEOUT', {kind: 'timeout', phase: 'body'}],
    ['ECONNRESET', {kind: 'network', code: 'ECONNRESET'}],
  ])('%s', (code, expected) => {
    expect(classifyError(coded(code))).toEqual(expected)
  })

  it('an over-long stream event is a bad answer from the upstream, and an uncoded error a network one', () => {
    expect(classifyError(new EventTooLargeError(10))).toEqual({kind: 'server', status: 502})
    expect(classifyError(new Error('?'))).toEqual({kind: 'network', code: 'UNKNOWN'})
  })
})

describe('upstreamErrorMessage', () => {
  it.each([
    ['{"error":{"message":"openai style"}}', 'openai style'],
    ['{"type":"error","error":{"type":"x","message":"anthropic style"}}', 'anthropic style'],
    ['{"error":"bare string"}', 'bare string'],
    ['{"message":"bare message"}', 'bare message'],
    ['<html>502</html>', undefined],
  ])('%s', (body, expected) => {
    expect(upstreamErrorMessage(body)).toBe(expected)
  })
})
