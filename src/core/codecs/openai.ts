import {openAIErrorBody, openAIStreamErrorEvent} from './openai-errors.js'
import {encodeOpenAIRequest} from './openai-request.js'
import {decodeOpenAIRequest} from './openai-request-decode.js'
import {decodeOpenAIResponse, encodeOpenAIResponse} from './openai-response.js'
import {createOpenAIStreamDecoder, createOpenAIStreamEncoder} from './openai-stream.js'
import type {ProtocolCodec} from './types.js'

export const openaiCodec: ProtocolCodec = {
  protocol: 'openai',
  decodeRequest: decodeOpenAIRequest,
  encodeRequest: encodeOpenAIRequest,
  decodeResponse: decodeOpenAIResponse,
  encodeResponse: encodeOpenAIResponse,
  createStreamDecoder: createOpenAIStreamDecoder,
  createStreamEncoder: createOpenAIStreamEncoder,
  errorBody: openAIErrorBody,
  streamErrorEvent: openAIStreamErrorEvent,
  // The proxy does not know when a model was released; 0 keeps the field an integer as clients expect.
  modelList: (ids) => ({
    object: 'list',
    data: ids.map((id) => ({id, object: 'model', created: 0, owned_by: 'aiclient'})),
  }),
}
