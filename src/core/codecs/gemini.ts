import {geminiErrorBody, geminiStreamErrorEvent} from './gemini-errors.js'
import {encodeGeminiRequest} from './gemini-request.js'
import {decodeGeminiRequest} from './gemini-request-decode.js'
import {decodeGeminiResponse, encodeGeminiResponse} from './gemini-response.js'
import {createGeminiStreamDecoder, createGeminiStreamEncoder} from './gemini-stream.js'
import type {ProtocolCodec} from './types.js'

export const geminiCodec: ProtocolCodec = {
  protocol: 'gemini',
  decodeRequest: decodeGeminiRequest,
  encodeRequest: encodeGeminiRequest,
  decodeResponse: decodeGeminiResponse,
  encodeResponse: encodeGeminiResponse,
  createStreamDecoder: createGeminiStreamDecoder,
  createStreamEncoder: createGeminiStreamEncoder,
  errorBody: geminiErrorBody,
  streamErrorEvent: geminiStreamErrorEvent,
  modelList: (ids) => ({
    models: ids.map((id) => ({
      name: `models/${id}`,
      displayName: id,
      supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
    })),
  }),
}
