import {
  decodeFinishReason,
  decodeGeminiUsage,
  decodeModelPart,
  encodeFinishReason,
  encodeGeminiUsage,
  encodeModelPart,
  toolCallIds,
} from './gemini-common.js'
import {decodeGeminiStreamError, geminiStreamErrorEvent} from './gemini-errors.js'
import {newId} from './ids.js'
import type {IRStopReason, IRStreamEvent, IRTokenLogprob, IRUsage} from './ir.js'
import {decodeGeminiLogprobs, encodeGeminiLogprobs} from './logprobs.js'
import {createSseParser, formatSse} from './sse.js'
import {BlockSequencer} from './stream-state.js'
import type {StreamDecoder, StreamDecoderOptions, StreamEncoder, StreamEncoderOptions} from './types.js'
import {thinkingStream} from './thinking.js'
import {asArray, asObject, asString, compact, isObject, parseJsonObject, type JsonObject} from './values.js'

export function createGeminiStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
  const drop = opts.onDropped ?? (() => {})
  const sse = createSseParser(opts.maxEventLength)
  const seq = new BlockSequencer()
  let nextCallId: (() => string) | undefined
  let sawToolCall = false
  let usage: IRUsage | undefined

  function onData(data: string): void {
    if (seq.done) return
    let chunk: unknown
    try {
      chunk = JSON.parse(data)
    } catch {
      return drop('unparseable stream chunk')
    }
    if (!isObject(chunk)) return
    if (chunk.error !== undefined) return seq.fail(decodeGeminiStreamError(chunk.error))
    if (chunk.usageMetadata !== undefined) usage = decodeGeminiUsage(chunk.usageMetadata)
    const id = asString(chunk.responseId)
    nextCallId ??= toolCallIds(id)
    // The input as counted so far, with its cached part: what a stream cut short has cost.
    const input =
      usage && compact({inputTokens: usage.inputTokens, outputTokens: 0, cachedInputTokens: usage.cachedInputTokens})
    seq.start(id, asString(chunk.modelVersion), input)
    const candidate = asObject(asArray(chunk.candidates)[0])
    for (const part of asArray(asObject(candidate.content).parts)) onPart(asObject(part), nextCallId)
    const tokens = decodeGeminiLogprobs(candidate.logprobsResult)
    if (tokens !== undefined && tokens.length > 0) seq.push({type: 'logprobs', tokens})
    const reason = asString(candidate.finishReason)
    const blocked = candidate.content === undefined && asObject(chunk.promptFeedback).blockReason !== undefined
    if (reason !== undefined) seq.end(decodeFinishReason(reason, sawToolCall), usage)
    else if (blocked) seq.end('content_filter', usage)
  }

  function onPart(part: JsonObject, nextId: () => string): void {
    const block = decodeModelPart(part, nextId)
    if (!block) return drop(`parts.${Object.keys(part)[0] ?? 'empty'}`)
    if (block.type === 'tool_call') {
      // Function calls arrive whole, so each becomes a complete block at once.
      sawToolCall = true
      const {id, name, signature} = block
      const index = seq.begin('tool_call', {id, name, ...(signature !== undefined && {signature})})
      seq.push({type: 'tool_input_delta', index, json: JSON.stringify(block.input)})
      return seq.close()
    }
    if (block.text === '' && block.signature === undefined) return
    const index = seq.ensure(block.type)
    const type = block.type === 'text' ? 'text_delta' : 'thinking_delta'
    if (block.text !== '') seq.push({type, index, text: block.text})
    if (block.signature !== undefined) seq.push({type: 'signature_delta', index, signature: block.signature})
  }

  return {
    push(chunk) {
      for (const event of sse.push(chunk)) onData(event.data)
      return seq.take()
    },
    end() {
      for (const event of sse.end()) onData(event.data)
      seq.truncated()
      return seq.take()
    },
  }
}

// Gemini has no block events: each encode() call becomes at most one chunk holding the new parts. Function
// calls are sent whole, so their argument fragments are collected until the block ends.
export function createGeminiStreamEncoder(opts: StreamEncoderOptions): StreamEncoder {
  const drop = opts.onDropped ?? (() => {})
  let id = opts.id
  let closed = false
  let block: {kind: string; id?: string; name?: string; signature?: string; args: string[]} | undefined
  // Log probabilities of the text of the chunk being made.
  let tokens: IRTokenLogprob[] = []
  // Gemini readers take thought parts that follow each other as one text; any other part ends it.
  const thinking = thinkingStream()

  function chunk(parts: JsonObject[], finish?: {reason: IRStopReason; usage?: IRUsage}): string {
    let candidate: JsonObject = {content: {role: 'model', parts}, index: 0}
    if (finish) candidate.finishReason = encodeFinishReason(finish.reason)
    if (tokens.length > 0) candidate = {...candidate, ...encodeGeminiLogprobs(tokens)}
    tokens = []
    id ??= newId('')
    const body: JsonObject = {candidates: [candidate]}
    if (finish) body.usageMetadata = encodeGeminiUsage(finish.usage ?? {inputTokens: 0, outputTokens: 0})
    return formatSse(JSON.stringify({...body, modelVersion: opts.model, responseId: id}))
  }

  // Fragments of one block in one encode() call share a part, until a signature closes it.
  function openPart(parts: JsonObject[], thought: boolean): JsonObject {
    const last = parts.at(-1)
    const reusable = typeof last?.text === 'string' && (last.thought === true) === thought && !last.thoughtSignature
    if (last && reusable) return last
    const part: JsonObject = thought ? {text: '', thought: true} : {text: ''}
    parts.push(part)
    return part
  }

  // Ends the open block; a tool call only now becomes a functionCall part.
  function closeBlock(parts: JsonObject[]): void {
    const call = block
    block = undefined
    if (call?.kind !== 'tool_call') return
    const args = parseJsonObject(call.args.join(''))
    if (args === undefined) drop('tool_call.arguments')
    parts.push(
      encodeModelPart({
        type: 'tool_call',
        id: call.id ?? newId('call_'),
        name: call.name ?? '',
        input: args ?? {},
        ...(call.signature !== undefined && {signature: call.signature}),
      }),
    )
  }

  return {
    encode(events: IRStreamEvent[]) {
      const parts: JsonObject[] = []
      for (const event of events) {
        if (closed) break
        switch (event.type) {
          case 'message_start':
            id ??= event.id
            break
          case 'block_start':
            closeBlock(parts)
            if (event.kind === 'redacted_thinking') drop('redacted_thinking')
            if (event.kind === 'thinking') thinking.blockStart()
            else if (event.kind === 'tool_call') thinking.apart()
            block = {kind: event.kind, id: event.id, name: event.name, signature: event.signature, args: []}
            break
          case 'text_delta':
            if (event.text !== '') thinking.apart()
            openPart(parts, false).text += event.text
            break
          case 'thinking_delta':
            openPart(parts, true).text += thinking.delta(event.text)
            break
          case 'signature_delta':
            if (block?.kind === 'tool_call') block.signature = event.signature
            else openPart(parts, block?.kind === 'thinking').thoughtSignature = event.signature
            break
          case 'tool_input_delta':
            block?.args.push(event.json)
            break
          case 'logprobs':
            tokens.push(...event.tokens)
            break
          case 'block_stop':
            closeBlock(parts)
            break
          case 'message_end':
            closed = true
            closeBlock(parts)
            return chunk(parts, {reason: event.stopReason, usage: event.usage})
          case 'error':
            closed = true
            return (parts.length > 0 ? chunk(parts) : '') + geminiStreamErrorEvent(event.message, event.status)
        }
      }
      return parts.length > 0 || tokens.length > 0 ? chunk(parts) : ''
    },
    finish() {
      if (closed) return ''
      closed = true
      const parts: JsonObject[] = []
      closeBlock(parts)
      return chunk(parts, {reason: 'end_turn'})
    },
  }
}
