import {request, type Dispatcher} from 'undici'
import type {UpstreamCall} from './types.js'

export interface SendInit {
  method: 'GET' | 'POST'
  body?: string | Buffer
  /** Aborts the request: an AbortSignal, or the EventEmitter-style signal undici also takes. */
  signal?: AbortSignal | Dispatcher.RequestOptions['signal']
  /** How long the upstream may take to send its headers, and may go quiet in its body; the dispatcher's own otherwise. */
  headersTimeout?: number
  bodyTimeout?: number
}

/**
 * The one way a request reaches an upstream: serving, probes, model lists and token counts all send through here.
 * A call prepared ahead (with `origin` and `path`) goes straight to its dispatcher, without parsing its URL again.
 */
export function sendUpstream(call: UpstreamCall, init: SendInit): Promise<Dispatcher.ResponseData> {
  const options = {
    method: init.method,
    headers: call.headers,
    body: init.body,
    signal: init.signal,
    headersTimeout: init.headersTimeout,
    bodyTimeout: init.bodyTimeout,
  }
  if (call.origin && call.path) return call.dispatcher.request({...options, origin: call.origin, path: call.path})
  return request(call.url, {...options, dispatcher: call.dispatcher})
}
