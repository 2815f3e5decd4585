import {decodeAnthropicUsage} from '../codecs/anthropic-response.js'
import {decodeGeminiUsage} from '../codecs/gemini-common.js'
import type {IRResponse, IRStreamEvent, IRUsage} from '../codecs/ir.js'
import {decodeOpenAIUsage} from '../codecs/openai-response.js'
import {decodeResponsesUsage} from '../codecs/responses/response.js'
import type {Protocol} from '../codecs/types.js'
import {isObject} from '../codecs/values.js'
import type {TokenUsage} from './tokens.js'

/**
 * An upstream's usage in the IR's terms (all input together, reasoning inside output) split into the record's:
 * `input` is the input read neither from nor into a cache, so that input + cacheRead + cacheWrite is all of it;
 * `reasoning` is the part of `output` spent thinking.
 */
export function tokenUsage(usage: IRUsage, estimated = false): TokenUsage {
  const cacheRead = usage.cachedInputTokens ?? 0
  const cacheWrite = usage.cacheCreationInputTokens ?? 0
  return {
    input: Math.max(0, usage.inputTokens - cacheRead - cacheWrite),
    output: usage.outputTokens,
    cacheRead,
    cacheWrite,
    reasoning: usage.reasoningTokens ?? 0,
    estimated,
  }
}

/**
 * The usage object of one answer or stream event in an upstream's protocol, wherever that protocol puts it:
 * top level (answers, OpenAI chunks, Anthropic's message_delta), in the message (Anthropic's message_start), in the
 * response (Responses events, Code Assist's envelope).
 */
function usageObject(protocol: Protocol, json: Record<string, unknown>): unknown {
  const inner = (key: string, field: string): unknown => {
    const holder = json[key]
    return isObject(holder) ? holder[field] : undefined
  }
  switch (protocol) {
    case 'openai':
      return json.usage
    case 'anthropic':
      return json.usage ?? inner('message', 'usage')
    case 'responses':
      return json.usage ?? inner('response', 'usage')
    case 'gemini':
      return json.usageMetadata ?? inner('response', 'usageMetadata')
  }
}

/** A usage object of the protocol in the IR's terms, over what earlier events of the stream said (`base`). */
export function usageOf(protocol: Protocol, value: unknown, base?: IRUsage): IRUsage {
  switch (protocol) {
    case 'openai':
      return decodeOpenAIUsage(value)
    case 'anthropic':
      return decodeAnthropicUsage(value, base)
    case 'responses':
      return decodeResponsesUsage(value)
    case 'gemini':
      return decodeGeminiUsage(value)
  }
}

/**
 * The usage an upstream reported in one JSON value of its protocol (a whole answer, or one stream event), folded
 * over what earlier events said (Anthropic's message_delta updates message_start's); undefined when it holds none.
 */
export function reportedUsage(protocol: Protocol, json: unknown, base?: IRUsage): IRUsage | undefined {
  if (!isObject(json)) return undefined
  const value = usageObject(protocol, json)
  return isObject(value) ? usageOf(protocol, value, base) : undefined
}

/** The characters of everything a model wrote in an answer: what an output estimate counts. */
export function answerChars(answer: IRResponse): number {
  let chars = 0
  for (const candidate of [answer, ...(answer.alternatives ?? [])]) {
    for (const block of candidate.content) {
      if (block.type === 'text' || block.type === 'thinking') chars += block.text.length
      else if (block.type === 'tool_call') chars += block.name.length + JSON.stringify(block.input).length
    }
  }
  return chars
}

/** What a stream said of its usage as it passed, and how much it wrote, for an estimate when it said nothing. */
export interface StreamUsage {
  usage(): IRUsage | undefined
  readonly chars: number
}

/** Usage and written characters, gathered from a decoded stream's events as they pass. */
export class EventUsage implements StreamUsage {
  chars = 0
  // The last usage the stream reported; message_end's (when it has one) is the whole answer's.
  private reported: IRUsage | undefined

  usage(): IRUsage | undefined {
    return this.reported
  }

  observe(events: readonly IRStreamEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'message_start':
        case 'message_end':
          if (event.usage) this.reported = event.usage
          break
        case 'text_delta':
        case 'thinking_delta':
          this.chars += event.text.length
          break
        case 'tool_input_delta':
          this.chars += event.json.length
          break
        case 'block_start':
          if (event.name !== undefined) this.chars += event.name.length
          break
      }
    }
  }
}
