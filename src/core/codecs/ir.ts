// The internal representation every protocol decodes into and encodes from. It carries what at least one
// client protocol can express and the proxy must preserve; protocol-only details (cache_control, safety
// settings…) are reported through `onDropped` instead of living here.

// `system`: a system instruction given at that point of the conversation (Anthropic accepts a `role: "system"`
// message anywhere in `messages`; current Claude Code sends one). Its content is text blocks only, and
// encoders place it where their protocol keeps system text, as close to its position as the protocol allows.
export type IRRole = 'user' | 'assistant' | 'system'

// A prompt-cache breakpoint as Anthropic takes it (`{type: "ephemeral", ttl?}`); OpenAI chat clients written for
// Anthropic models put it on content parts too.
export type IRCacheControl = Record<string, unknown>

export interface IRText {
  type: 'text'
  text: string
  // Gemini `thoughtSignature` on a non-thought part; only Gemini can carry it.
  signature?: string
  cacheControl?: IRCacheControl
}

export type IRImageSource =
  {kind: 'base64'; mediaType: string; data: string} | {kind: 'url'; url: string; mediaType?: string}

export interface IRImage {
  type: 'image'
  source: IRImageSource
  cacheControl?: IRCacheControl
}

export interface IRToolCall {
  type: 'tool_call'
  id: string
  name: string
  input: Record<string, unknown>
  // Gemini `thoughtSignature` on a functionCall part; only Gemini can carry it.
  signature?: string
}

export interface IRToolResult {
  type: 'tool_result'
  toolCallId: string
  // Known when the decoder could resolve it (from the call with the same id, or a Gemini functionResponse).
  toolName?: string
  content: (IRText | IRImage)[]
  isError: boolean
}

export interface IRThinking {
  type: 'thinking'
  text: string
  signature?: string
}

export interface IRRedactedThinking {
  type: 'redacted_thinking'
  data: string
}

export type IRContentBlock = IRText | IRImage | IRToolCall | IRToolResult | IRThinking | IRRedactedThinking

export interface IRMessage {
  role: IRRole
  content: IRContentBlock[]
}

export interface IRTool {
  name: string
  description?: string
  // JSON Schema of the arguments object, as the client sent it.
  parameters: Record<string, unknown>
}

export type IRToolChoice = 'auto' | 'none' | 'required' | {name: string}

export type IREffort = 'minimal' | 'low' | 'medium' | 'high'

// `auto` = thinking on with a budget the model picks (Gemini -1, Anthropic adaptive without an effort).
export type IRThinkingConfig =
  {type: 'off'} | {type: 'auto'} | {type: 'budget'; budgetTokens: number} | {type: 'effort'; effort: IREffort}

export type IRResponseFormat =
  {type: 'json'} | {type: 'json_schema'; schema: Record<string, unknown>; name?: string; strict?: boolean}

export interface IRRequest {
  model: string
  system: IRText[]
  messages: IRMessage[]
  tools: IRTool[]
  toolChoice?: IRToolChoice
  parallelToolCalls?: boolean
  maxTokens?: number
  temperature?: number
  topP?: number
  topK?: number
  presencePenalty?: number
  frequencyPenalty?: number
  seed?: number
  stop: string[]
  stream: boolean
  // Whether the client expects token usage in a stream (always for Anthropic and Gemini clients).
  includeUsage: boolean
  thinking?: IRThinkingConfig
  responseFormat?: IRResponseFormat
  // End-user identifier: OpenAI `user`, Anthropic `metadata.user_id`.
  user?: string
  // OpenAI's `prompt_cache_key` (chat completions and Responses): routes requests sharing a prefix to one cache.
  promptCacheKey?: string
  // Answers asked for at once: OpenAI `n`, Gemini `candidateCount`. Set only when more than one.
  candidateCount?: number
  // Token log probabilities asked for: OpenAI `logprobs` (+ `top_logprobs`), Gemini `responseLogprobs` (+ `logprobs`).
  logprobs?: {top?: number}
}

export type IRStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'content_filter' | 'other'

// Token counts in OpenAI's convention: inputTokens includes cached input, outputTokens includes reasoning.
export interface IRUsage {
  inputTokens: number
  outputTokens: number
  cachedInputTokens?: number
  cacheCreationInputTokens?: number
  reasoningTokens?: number
  // The upstream reported no counts and these are the decoder's guess (Kiro without `metadataEvent`).
  estimated?: boolean
}

export type IRResponseBlock = IRText | IRThinking | IRRedactedThinking | IRToolCall

// One token of an answer with its log probability, and the likeliest tokens at its position when asked for.
export interface IRTokenLogprob {
  token: string
  logprob: number
  top?: {token: string; logprob: number}[]
}

// One answer: OpenAI `choices[i]`, Gemini `candidates[i]`.
export interface IRCandidate {
  content: IRResponseBlock[]
  stopReason: IRStopReason
  stopSequence?: string
  // Only when the client asked for log probabilities and the upstream gave them.
  logprobs?: IRTokenLogprob[]
}

// The response is its first answer; the usage counts every answer.
export interface IRResponse extends IRCandidate {
  // Absent when the upstream sent none; encoders then generate one in their protocol's style.
  id?: string
  model: string
  usage: IRUsage
  // The answers after the first, in order, when several were asked for (n / candidateCount).
  alternatives?: IRCandidate[]
}

export type IRBlockKind = 'text' | 'thinking' | 'redacted_thinking' | 'tool_call'

export type IRErrorKind =
  'invalid_request' | 'authentication' | 'permission' | 'not_found' | 'rate_limit' | 'overloaded' | 'timeout' | 'server'

// A decoded stream always follows one grammar: message_start, then blocks with contiguous indices from 0
// (block_start, deltas, block_stop; one open at a time), then message_end. `error` may replace the rest.
// `logprobs` may come anywhere between message_start and message_end.
export type IRStreamEvent =
  | {type: 'message_start'; id?: string; model?: string; usage?: IRUsage}
  | {
      type: 'block_start'
      index: number
      kind: IRBlockKind
      // Tool calls: id, name and, from Gemini, a signature. Redacted thinking: its data.
      id?: string
      name?: string
      signature?: string
      data?: string
    }
  | {type: 'text_delta'; index: number; text: string}
  | {type: 'thinking_delta'; index: number; text: string}
  | {type: 'signature_delta'; index: number; signature: string}
  | {type: 'tool_input_delta'; index: number; json: string}
  | {type: 'block_stop'; index: number}
  // Log probabilities of the tokens of the text just streamed, when the client asked for them.
  | {type: 'logprobs'; tokens: IRTokenLogprob[]}
  | {type: 'message_end'; stopReason: IRStopReason; stopSequence?: string; usage?: IRUsage}
  | {type: 'error'; message: string; kind: IRErrorKind; status: number}
