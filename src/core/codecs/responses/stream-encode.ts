// SKELETON: replaced by the Responses stream encoder.
import type {StreamEncoder, StreamEncoderOptions} from '../types.js'
export function createResponsesStreamEncoder(opts: StreamEncoderOptions): StreamEncoder {
  throw new Error(`not implemented ${String(opts)}`)
}
