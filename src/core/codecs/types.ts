import type {IRRequest, IRResponse, IRStreamEvent} from './ir.js'

// `responses` is OpenAI's Responses API (`/v1/responses`); `openai` is its chat completions.
export type Protocol = 'openai' | 'anthropic' | 'gemini' | 'responses'

// Called with a short name of each field or content kind a codec received but cannot carry, so the proxy
// can log it at debug level; codecs never throw for these.
export type DropHandler = (field: string) => void

export interface CodecOptions {
  onDropped?: DropHandler
}

export interface StreamDecoderOptions extends CodecOptions {
  // Longest single event held while it arrives (an SSE event or line, a Kiro frame), in characters or bytes; a
  // longer SSE event throws EventTooLargeError. Default DEFAULT_EVENT_LIMIT.
  maxEventLength?: number
}

export interface DecodeRequestContext extends CodecOptions {
  // Gemini carries model and streaming in the URL, not the body.
  model?: string
  stream?: boolean
}

export interface StreamEncoderOptions extends CodecOptions {
  // The model name the client asked for, written on every chunk.
  model: string
  // The message id to show; by default the upstream's, else one generated in the protocol's style.
  id?: string
  // OpenAI only: the client asked for stream_options.include_usage.
  includeUsage?: boolean
  // The client's request as it sent it: Responses answers echo its settings and give tool calls back in the
  // client's own tool kinds (custom tools, namespaced functions).
  request?: Record<string, unknown>
}

export interface ResponseEncodeOptions extends CodecOptions {
  // As for StreamEncoderOptions.id and .request.
  id?: string
  request?: Record<string, unknown>
}

// Upstream bytes → IR events, following the grammar described at IRStreamEvent. end() reports an upstream
// that closed without its terminal event as an error event.
export interface StreamDecoder {
  push(chunk: Uint8Array): IRStreamEvent[]
  end(): IRStreamEvent[]
}

// IR events → client bytes: one string per encode() call (one upstream read). finish() completes a stream
// that has not ended ([DONE], message_stop, final chunk) and returns '' once it has.
export interface StreamEncoder {
  encode(events: IRStreamEvent[]): string
  finish(): string
}

export interface ProtocolCodec {
  protocol: Protocol
  decodeRequest(body: unknown, ctx?: DecodeRequestContext): IRRequest
  encodeRequest(req: IRRequest, opts?: CodecOptions): unknown
  decodeResponse(body: unknown, opts?: CodecOptions): IRResponse
  encodeResponse(res: IRResponse, opts?: ResponseEncodeOptions): unknown
  createStreamDecoder(opts?: StreamDecoderOptions): StreamDecoder
  createStreamEncoder(opts: StreamEncoderOptions): StreamEncoder
  errorBody(status: number, message: string): unknown
  streamErrorEvent(message: string, status?: number): string
  modelList(ids: string[]): unknown
}
