import {describe, expect, it} from 'vitest'
import {collectStream, StreamFailure} from './codecs/collect.js'
import {CodecError} from './codecs/errors.js'
import {HttpStatusError} from './http-status-error.js'
import {HttpError} from './server/http-error.js'

describe('errors answered with an HTTP status', () => {
  it.each([
    [new CodecError('bad tool'), 'CodecError', 'codec_error', 400],
    [new CodecError('too large', 413), 'CodecError', 'codec_error', 413],
    [new StreamFailure('upstream broke', 502), 'StreamFailure', 'stream_failure', 502],
    [new HttpError(408, 'slow body', {connection: 'close'}), 'HttpError', 'request_refused', 408],
  ])('%s is one HttpStatusError with its own name, code and status', (error, name, code, status) => {
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe(name)
    expect(error.code).toBe(code)
    expect(error.status).toBe(status)
    expect(String(error)).toBe(`${name}: ${error.message}`)
  })

  it('keeps the headers a refusal is answered with', () => {
    expect(new HttpError(503, 'busy', {'retry-after': '1'}).headers).toEqual({'retry-after': '1'})
    expect(new CodecError('bad').headers).toEqual({})
  })

  it('is what a stream that never finished throws', () => {
    const attempt = () => collectStream([{type: 'message_start', id: 'm1'}], 'model')
    expect(attempt).toThrow(HttpStatusError)
    expect(attempt).toThrow(expect.objectContaining({code: 'stream_failure', status: 502}))
  })
})
