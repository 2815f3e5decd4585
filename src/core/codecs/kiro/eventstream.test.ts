import {EventStreamCodec} from '@smithy/eventstream-codec'
import {fromUtf8, toUtf8} from '@smithy/util-utf8'
import {describe, expect, it} from 'vitest'
import {encodeFrame} from '../../../../test/fakes/kiro-frames.js'
import {createFrameReader, KiroFrameError, MAX_FRAME_LENGTH, type KiroFrame} from './eventstream.js'

const hi: KiroFrame = {messageType: 'event', eventType: 'assistantResponseEvent', payload: {content: 'Hi'}}

// upstreams.md §7.3, byte for byte.
const hex = (text: string): string => Buffer.from(text).toString('hex')
const WORKED_EXAMPLE = [
  '0000007c0000005c3bddcf78',
  `0b${hex(':event-type')}070016${hex('assistantResponseEvent')}`,
  `0d${hex(':content-type')}070010${hex('application/json')}`,
  `0d${hex(':message-type')}070005${hex('event')}`,
  hex('{"content":"Hi"}'),
  'b02babdc',
].join('')

function readAll(reads: Uint8Array[]): KiroFrame[] {
  const reader = createFrameReader()
  const frames = reads.flatMap((read) => reader.push(read))
  reader.end()
  return frames
}

function frameError(run: () => void): KiroFrameError {
  try {
    run()
  } catch (error) {
    if (error instanceof KiroFrameError) return error
    throw error
  }
  throw new Error('expected a KiroFrameError')
}

describe('encodeFrame', () => {
  it('writes the worked example of the reference exactly', () => {
    const bytes = encodeFrame(hi)
    expect(Buffer.from(bytes).toString('hex')).toBe(WORKED_EXAMPLE)
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    expect(view.getUint32(0)).toBe(124)
    expect(view.getUint32(4)).toBe(92)
    expect(view.getUint32(8).toString(16)).toBe('3bddcf78')
    expect(view.getUint32(120).toString(16)).toBe('b02babdc')
  })

  it('names exception and error headers as Kiro does', () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8)
    const exception = codec.decode(
      encodeFrame({messageType: 'exception', exceptionType: 'throttlingException', payload: {message: 'slow'}}),
    )
    expect(exception.headers).toEqual({
      ':exception-type': {type: 'string', value: 'throttlingException'},
      ':content-type': {type: 'string', value: 'application/json'},
      ':message-type': {type: 'string', value: 'exception'},
    })
    const error = codec.decode(
      encodeFrame({messageType: 'error', errorCode: 'InternalError', errorMessage: 'boom', payload: null}),
    )
    expect(error.headers).toEqual({
      ':error-code': {type: 'string', value: 'InternalError'},
      ':error-message': {type: 'string', value: 'boom'},
      ':message-type': {type: 'string', value: 'error'},
    })
    expect(error.body).toHaveLength(0)
  })
})

describe('createFrameReader', () => {
  const frames: KiroFrame[] = [
    hi,
    {
      messageType: 'event',
      eventType: 'toolUseEvent',
      payload: {toolUseId: 't1', name: 'read', input: '{"path":"東京 🌍"}', stop: true},
    },
    {messageType: 'exception', exceptionType: 'validationException', payload: {message: 'Improperly formed request.'}},
    {messageType: 'error', errorCode: 'InternalError', errorMessage: 'boom', payload: null},
  ]
  const bytes = Buffer.concat(frames.map(encodeFrame))

  it('round-trips every message type', () => {
    expect(readAll([bytes])).toEqual(frames)
  })

  it('gives the same frames whatever the read boundaries, multi-byte characters included', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(readAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(frames)
    }
    expect(readAll(Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual(frames)
  })

  it('rejects a flipped bit anywhere in a frame, in a CRC or the data it covers', () => {
    const frame = encodeFrame(hi)
    for (let offset = 0; offset < frame.length; offset++) {
      const damaged = Uint8Array.from(frame)
      damaged[offset] = (damaged[offset] ?? 0) ^ 0x10
      const reader = createFrameReader()
      // A larger length waits for bytes that never come, which end() reports.
      expect(() => {
        reader.push(damaged)
        reader.end()
      }, `offset ${offset}`).toThrow(KiroFrameError)
    }
  })

  it.each([
    ['prelude CRC', 8, /prelude checksum/],
    ['headers', 20, /message checksum/],
    ['payload', 110, /message checksum/],
    ['message CRC', 123, /message checksum/],
  ])('says which CRC failed (%s)', (_part, offset, message) => {
    const damaged = Uint8Array.from(encodeFrame(hi))
    damaged[offset] = (damaged[offset] ?? 0) ^ 0x01
    expect(frameError(() => createFrameReader().push(damaged)).message).toMatch(message)
  })

  it('hands over the frames decoded before the damage', () => {
    const damaged = Uint8Array.from(encodeFrame(hi))
    damaged[110] = (damaged[110] ?? 0) ^ 0x01
    const error = frameError(() => createFrameReader().push(Buffer.concat([encodeFrame(hi), damaged])))
    expect(error.frames).toEqual([hi])
  })

  it('rejects lengths below 16 and above 10 MiB before waiting for them', () => {
    const tiny = Uint8Array.of(0, 0, 0, 15)
    const huge = new Uint8Array(4)
    new DataView(huge.buffer).setUint32(0, MAX_FRAME_LENGTH + 1)
    expect(frameError(() => createFrameReader().push(tiny)).message).toMatch(/frame length 15/)
    expect(frameError(() => createFrameReader().push(huge)).message).toMatch(/frame length 10485761/)
  })

  it('takes a lower cap from the caller (the stream event limit), never a higher one', () => {
    const frame = encodeFrame(hi)
    expect(frameError(() => createFrameReader(100).push(frame)).message).toMatch(/frame length 124 is outside 16–100/)
    expect(createFrameReader(124).push(frame)).toEqual([hi])
    const huge = new Uint8Array(4)
    new DataView(huge.buffer).setUint32(0, MAX_FRAME_LENGTH + 1)
    expect(() => createFrameReader(2 * MAX_FRAME_LENGTH).push(huge)).toThrow(KiroFrameError)
  })

  it('reports bytes left at the end as a stream cut inside a frame', () => {
    const reader = createFrameReader()
    expect(reader.push(bytes.subarray(0, 130))).toEqual([hi])
    expect(frameError(() => reader.end()).message).toMatch(/ended inside a frame \(6 bytes left\)/)
  })

  it('rejects unknown message types and events whose payload is not JSON', () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8)
    const frame = (type: string, body: string): Uint8Array =>
      codec.encode({headers: {':message-type': {type: 'string', value: type}}, body: fromUtf8(body)})
    const problem = (bytes: Uint8Array): string => frameError(() => createFrameReader().push(bytes)).message
    expect(problem(frame('notice', '{}'))).toMatch(/unknown message type notice/)
    expect(problem(frame('event', 'not json'))).toMatch(/not JSON/)
    expect(createFrameReader().push(frame('exception', 'plain text'))).toEqual([
      {messageType: 'exception', payload: 'plain text'},
    ])
  })
})
