// AWS event-stream frames as Kiro writes them, for the Kiro fake and the codec tests: the encoder is test
// infrastructure, the product only reads frames (src/core/codecs/kiro/eventstream.ts).
import {EventStreamCodec, type MessageHeaders} from '@smithy/eventstream-codec'
import {fromUtf8, toUtf8} from '@smithy/util-utf8'
import type {KiroFrame} from '../../src/core/codecs/kiro/eventstream.js'

const codec = new EventStreamCodec(toUtf8, fromUtf8)

/** The inverse of the codec's frame decoding, header order as Kiro sends it (the worked example pinned in eventstream.test.ts) */
export function encodeFrame(frame: KiroFrame): Uint8Array {
  const headers: MessageHeaders = {}
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined) headers[name] = {type: 'string', value}
  }
  set(':event-type', frame.eventType)
  set(':exception-type', frame.exceptionType)
  set(':error-code', frame.errorCode)
  set(':error-message', frame.errorMessage)
  const hasPayload = frame.payload !== null && frame.payload !== undefined
  if (hasPayload) set(':content-type', 'application/json')
  set(':message-type', frame.messageType)
  return codec.encode({headers, body: hasPayload ? fromUtf8(JSON.stringify(frame.payload)) : new Uint8Array(0)})
}
