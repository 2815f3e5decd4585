export {
  decodeCodeAssistResponse,
  encodeCodeAssistRequest,
  unwrapResponse,
  wrapGeminiBody,
  type CodeAssistTarget,
} from './envelope.js'
export {createCodeAssistStreamDecoder, createUnwrappingSseTransform, type SseTextTransform} from './stream.js'
