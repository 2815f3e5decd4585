import type {ProtocolCodec} from '../types.js'
import {responsesErrorBody, responsesStreamErrorEvent} from './errors.js'
import {encodeResponsesRequest} from './request.js'
import {decodeResponsesRequest} from './request-decode.js'
import {decodeResponsesResponse, encodeResponsesResponse} from './response.js'
import {createResponsesStreamDecoder} from './stream-decode.js'
import {createResponsesStreamEncoder} from './stream-encode.js'

export const responsesCodec: ProtocolCodec = {
  protocol: 'responses',
  decodeRequest: decodeResponsesRequest,
  encodeRequest: encodeResponsesRequest,
  decodeResponse: decodeResponsesResponse,
  encodeResponse: encodeResponsesResponse,
  createStreamDecoder: createResponsesStreamDecoder,
  createStreamEncoder: createResponsesStreamEncoder,
  errorBody: responsesErrorBody,
  streamErrorEvent: responsesStreamErrorEvent,
  // Responses clients list models from the same /v1/models as chat clients.
  modelList: (ids) => ({
    object: 'list',
    data: ids.map((id) => ({id, object: 'model', created: 0, owned_by: 'aiclient'})),
  }),
}
