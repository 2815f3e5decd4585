export {
  createFrameReader,
  KiroFrameError,
  MAX_FRAME_LENGTH,
  type FrameReader,
  type KiroFrame,
  type KiroMessageType,
} from './eventstream.js'
export {KIRO_MODEL_IDS, kiroContextWindow, kiroModelId} from './models.js'
export {encodeKiroRequest, type KiroRequest, type KiroRequestOptions} from './request.js'
export {createKiroStreamDecoder, type KiroStreamOptions} from './stream.js'
