// SKELETON: replaced by the Responses request encoder.
import type {IRRequest} from '../ir.js'
import type {CodecOptions} from '../types.js'
export function encodeResponsesRequest(req: IRRequest, opts?: CodecOptions): unknown {
  throw new Error(`not implemented ${req.model} ${String(opts)}`)
}
