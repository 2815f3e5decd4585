// The vendors' own types of what each client protocol answers, taken from the official SDKs (generated from the
// vendors' API specifications), in the form the JSON on the wire takes. test/conformance/schemas.test.ts
// assigns every body and stream event the proxy produced to one of these and lets the compiler judge.
import type Anthropic from '@anthropic-ai/sdk'
import type {GenerateContentResponse} from '@google/genai'
import type OpenAI from 'openai'

/** @google/genai types enums as TypeScript enums; on the wire they are their string values. */
type Wire<T> = T extends string
  ? `${T}`
  : T extends Array<infer U>
    ? Array<Wire<U>>
    : T extends object
      ? {[K in keyof T]: Wire<T[K]>}
      : T

/**
 * The SDKs type a field the API may answer with null as always present. Left out, every SDK reads it as null,
 * and the APIs themselves leave many of them out (by API version, by beta), so such a field may be absent. With
 * `nullable`, an optional field may also be null: the Responses API answers null for unset optional fields of a
 * response (`user`, and `usage` until the response is done), which its SDK types only as optional (and the OpenAPI
 * document not at all: openapi.ts allows the same there).
 */
type Lenient<T, nullable extends boolean = false> = T extends string | number | boolean | null | undefined
  ? T
  : T extends Array<infer U>
    ? Array<Lenient<U, nullable>>
    : T extends object
      ? {
          [K in keyof T as null extends T[K] ? K : undefined extends T[K] ? K : never]?:
            Lenient<T[K], nullable> | (nullable extends true ? null : never)
        } & {
          [K in keyof T as null extends T[K] ? never : undefined extends T[K] ? never : K]: Lenient<T[K], nullable>
        }
      : T

/**
 * Thinking in a chat completion: not OpenAI's, but the field DeepSeek, Qwen and vLLM answer with and that clients of
 * OpenAI-compatible APIs read; the proxy sends it on purpose.
 */
interface Reasoning {
  reasoning_content?: string
}
type ChatCompletion = Omit<OpenAI.ChatCompletion, 'choices'> & {
  choices: Array<Omit<OpenAI.ChatCompletion.Choice, 'message'> & {message: OpenAI.ChatCompletionMessage & Reasoning}>
}
type ChatCompletionChunk = Omit<OpenAI.ChatCompletionChunk, 'choices'> & {
  choices: Array<
    Omit<OpenAI.ChatCompletionChunk.Choice, 'delta'> & {delta: OpenAI.ChatCompletionChunk.Choice.Delta & Reasoning}
  >
}

export type OpenAIChatCompletion = Lenient<ChatCompletion>
export type OpenAIChatCompletionChunk = Lenient<ChatCompletionChunk>
/** The error body OpenAI answers with, also sent as the last `data:` of a chat stream that fails */
export type OpenAIError = Lenient<{error: OpenAI.ErrorObject}>
/**
 * `output_text` is the SDK's own, computed from `output` and never on the wire; `store` is on the wire (the API
 * reference's example response has it) but missing from the SDK's type.
 */
type Response = Omit<OpenAI.Responses.Response, 'output_text'> & {store?: boolean}
export type OpenAIResponse = Lenient<Response, true>
/**
 * The events that carry the whole response carry it as above. The live API nests the error of an `error` event
 * under `error` too, and the openai SDKs raise only for that form (src/core/codecs/responses/errors.ts); the
 * reference has the flat fields alone.
 */
type ResponseStreamEvent =
  | WithResponse<Exclude<OpenAI.Responses.ResponseStreamEvent, {type: 'error'}>>
  | (OpenAI.Responses.ResponseErrorEvent & {error?: OpenAI.ErrorObject})
type WithResponse<E> = E extends {response: OpenAI.Responses.Response} ? Omit<E, 'response'> & {response: Response} : E
export type OpenAIResponseStreamEvent = Lenient<ResponseStreamEvent, true>
/**
 * `POST /v1/responses/compact`. The SDK types its output as output items, where a user message cannot be; the API
 * reference and the OpenAPI document list the conversation's user messages in it, as the items they are.
 */
type Compaction = Omit<OpenAI.Responses.CompactedResponse, 'output'> & {
  output: Array<OpenAI.Responses.ResponseInputMessageItem | OpenAI.Responses.ResponseOutputItem>
}
export type OpenAICompaction = Lenient<Compaction>
/** `GET /v1/models`, a page of models */
export type OpenAIModelList = Lenient<{object: 'list'; data: OpenAI.Models.Model[]}>

export type AnthropicMessage = Lenient<Anthropic.Message>
export type AnthropicStreamEvent = Lenient<Anthropic.RawMessageStreamEvent>
/** Keeps a stream open; documented with the stream events, left out of the SDK's union, which skips it */
export interface AnthropicPing {
  type: 'ping'
}
export type AnthropicError = Lenient<Anthropic.ErrorResponse>

/** The getters the SDK's response class adds to the wire fields */
type Getters = 'text' | 'data' | 'functionCalls' | 'executableCode' | 'codeExecutionResult' | 'initialPromptTokenCount'
export type GeminiResponse = Wire<Omit<GenerateContentResponse, Getters | 'sdkHttpResponse'>>
/**
 * Google's error body, the JSON form of google.rpc.Status that every Google API answers with; @google/genai has no
 * type of it (it throws an ApiError built from the text), so this one is written out from Google's AIP-193.
 */
export interface GeminiError {
  error: {code: number; message: string; status: string; details?: Array<{'@type': string; [key: string]: unknown}>}
}
