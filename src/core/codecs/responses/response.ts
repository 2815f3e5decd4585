// SKELETON: replaced by the Responses response codec.
import type {IRResponse} from '../ir.js'
import type {CodecOptions, ResponseEncodeOptions} from '../types.js'
export function decodeResponsesResponse(body: unknown, opts?: CodecOptions): IRResponse {
  throw new Error(`not implemented ${String(body)} ${String(opts)}`)
}
export function encodeResponsesResponse(res: IRResponse, opts?: ResponseEncodeOptions): unknown {
  throw new Error(`not implemented ${String(res)} ${String(opts)}`)
}
