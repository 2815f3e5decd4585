import {anthropicCodec} from './anthropic.js'
import {geminiCodec} from './gemini.js'
import {openaiCodec} from './openai.js'
import {responsesCodec} from './responses/index.js'
import type {Protocol, ProtocolCodec} from './types.js'

export const codecs: Record<Protocol, ProtocolCodec> = {
  openai: openaiCodec,
  anthropic: anthropicCodec,
  gemini: geminiCodec,
  responses: responsesCodec,
}

export {anthropicCodec, geminiCodec, openaiCodec, responsesCodec}
export {CodecError, errorKindForStatus} from './errors.js'
export {ANTHROPIC_FALLBACK_MAX_TOKENS, ANTHROPIC_MAX_TOKENS_DEFAULTS, defaultAnthropicMaxTokens} from './max-tokens.js'
export {EFFORT_BUDGETS} from './thinking.js'
export {toGeminiSchema} from './schema.js'
export {createSseParser, formatSse, type SseEvent, type SseParser} from './sse.js'
export type * from './ir.js'
export type * from './types.js'
