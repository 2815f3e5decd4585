import {HttpStatusError} from '../http-status-error.js'
import type {IRErrorKind, IRStreamEvent} from './ir.js'

/** Thrown by decoders and encoders for input the target cannot accept; `status` is the HTTP status to answer. */
export class CodecError extends HttpStatusError {
  override name = 'CodecError'

  constructor(message: string, status = 400) {
    super(message, status, 'codec_error')
  }
}

export function streamError(status: number, message: string): IRStreamEvent & {type: 'error'} {
  return {type: 'error', message, kind: errorKindForStatus(status), status}
}

export function errorKindForStatus(status: number): IRErrorKind {
  if (status === 401) return 'authentication'
  if (status === 402 || status === 403) return 'permission'
  if (status === 404) return 'not_found'
  if (status === 408 || status === 504) return 'timeout'
  if (status === 429) return 'rate_limit'
  if (status === 503 || status === 529) return 'overloaded'
  if (status >= 400 && status < 500) return 'invalid_request'
  return 'server'
}
