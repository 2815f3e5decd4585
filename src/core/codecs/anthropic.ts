import {anthropicErrorBody, anthropicStreamErrorEvent} from './anthropic-errors.js'
import {encodeAnthropicRequest} from './anthropic-request.js'
import {decodeAnthropicRequest} from './anthropic-request-decode.js'
import {decodeAnthropicResponse, encodeAnthropicResponse} from './anthropic-response.js'
import {createAnthropicStreamDecoder, createAnthropicStreamEncoder} from './anthropic-stream.js'
import type {ProtocolCodec} from './types.js'

export const anthropicCodec: ProtocolCodec = {
  protocol: 'anthropic',
  decodeRequest: decodeAnthropicRequest,
  encodeRequest: encodeAnthropicRequest,
  decodeResponse: decodeAnthropicResponse,
  encodeResponse: encodeAnthropicResponse,
  createStreamDecoder: createAnthropicStreamDecoder,
  createStreamEncoder: createAnthropicStreamEncoder,
  errorBody: anthropicErrorBody,
  streamErrorEvent: anthropicStreamErrorEvent,
  modelList: (ids) => ({
    data: ids.map((id) => ({type: 'model', id, display_name: id, created_at: '1970-01-01T00:00:00Z'})),
    has_more: false,
    first_id: ids[0] ?? null,
    last_id: ids.at(-1) ?? null,
  }),
}
