// SKELETON: replaced by the Responses request decoder.
import type {IRRequest} from '../ir.js'
import type {DecodeRequestContext} from '../types.js'
export function decodeResponsesRequest(body: unknown, ctx?: DecodeRequestContext): IRRequest {
  throw new Error(`not implemented ${String(body)} ${String(ctx)}`)
}
