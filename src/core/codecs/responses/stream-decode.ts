// SKELETON: replaced by the Responses stream decoder.
import type {StreamDecoder, StreamDecoderOptions} from '../types.js'
export function createResponsesStreamDecoder(opts?: StreamDecoderOptions): StreamDecoder {
  throw new Error(`not implemented ${String(opts)}`)
}
