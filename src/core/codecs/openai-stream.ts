import {streamError} from './errors.js'
import {newId} from './ids.js'
import type {IRStopReason, IRStreamEvent, IRTokenLogprob, IRUsage} from './ir.js'
import {decodeOpenAILogprobs, encodeOpenAILogprobs} from './logprobs.js'
import {decodeOpenAIStreamError, openAIStreamErrorEvent} from './openai-errors.js'
import {decodeFinishReason, decodeOpenAIUsage, encodeFinishReason, encodeOpenAIUsage} from './openai-response.js'
import {createSseParser} from './sse.js'
import {BlockSequencer} from './stream-state.js'
import type {StreamDecoder, StreamDecoderOptions, StreamEncoder, StreamEncoderOptions} from './types.js'
import {thinkingStream} from './thinking.js'
import {asArray, asNumber, asObject, asString, isObject, type JsonObject} from './values.js'

interface ToolCall {
  id?: string
  name?: string
  // Arguments received before the call could begin.
  args: string
  // The IR block, once begun.
  index?: number
}

export function createOpenAIStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
  const drop = opts.onDropped ?? (() => {})
  const sse = createSseParser(opts.maxEventLength)
  const seq = new BlockSequencer()
  // OpenAI tool-call index → the call, begun as an IR block once its id and name are known.
  const calls = new Map<number, ToolCall>()
  let lastCall = 0
  let finish: IRStopReason | undefined
  let usage: IRUsage | undefined

  function onData(data: string): void {
    if (seq.done) return
    if (data.trim() === '[DONE]') return complete()
    let chunk: unknown
    try {
      chunk = JSON.parse(data)
    } catch {
      return drop('unparseable stream chunk')
    }
    if (!isObject(chunk)) return
    if (chunk.error !== undefined && chunk.error !== null) return seq.fail(decodeOpenAIStreamError(chunk.error))
    seq.start(asString(chunk.id), asString(chunk.model))
    // Usage may come in its own `choices: []` chunk (include_usage) or, with some servers, in the last choice chunk.
    if (isObject(chunk.usage)) usage = decodeOpenAIUsage(chunk.usage)
    const choice = firstChoice(chunk.choices)
    if (choice) onChoice(choice)
    else if (finish !== undefined && usage !== undefined) complete()
  }

  function onChoice(choice: JsonObject): void {
    const delta = asObject(choice.delta)
    const reasoning = asString(delta.reasoning_content) ?? asString(delta.reasoning)
    // A refusal is the model's answer in a field of its own; the other protocols only have text for it.
    const content = (asString(delta.content) ?? '') + (asString(delta.refusal) ?? '')
    if ((reasoning || content) && !beginPending()) return
    if (reasoning) seq.push({type: 'thinking_delta', index: seq.ensure('thinking'), text: reasoning})
    if (content) seq.push({type: 'text_delta', index: seq.ensure('text'), text: content})
    const tokens = decodeOpenAILogprobs(choice.logprobs)
    if (tokens !== undefined && tokens.length > 0) seq.push({type: 'logprobs', tokens})
    for (const call of asArray(delta.tool_calls)) onToolCall(asObject(call))
    const reason = asString(choice.finish_reason)
    if (reason && beginPending()) {
      seq.close()
      finish = decodeFinishReason(reason, calls.size > 0)
    }
  }

  // Most servers send a call's id and name in its first fragment; some send them late or in fragments of their
  // own. Arguments wait with the call until both are known, so the client never sees a call without its name.
  function onToolCall(fragment: JsonObject): void {
    if (seq.done) return
    const fn = asObject(fragment.function)
    const id = asString(fragment.id) || undefined
    const name = asString(fn.name) || undefined
    const key = asNumber(fragment.index) ?? (id === undefined ? lastCall : calls.size)
    if (key !== lastCall && !beginPending()) return
    lastCall = key
    let call = calls.get(key)
    // Some servers number every parallel call 0; a fragment with a new id and a name starts another call.
    if (!call || (id !== undefined && name !== undefined && call.id !== undefined && id !== call.id)) {
      if (call && !beginPending()) return
      call = {args: ''}
      calls.set(key, call)
    }
    call.id ??= id
    call.name ??= name
    const args = asString(fn.arguments) ?? ''
    if (call.index === undefined) {
      call.args += args
      if (call.id !== undefined && call.name !== undefined) begin(call)
    } else if (seq.openIndex !== call.index) drop('interleaved tool call arguments')
    else if (args) seq.push({type: 'tool_input_delta', index: call.index, json: args})
  }

  function begin(call: ToolCall): boolean {
    if (call.name === undefined) {
      seq.fail(streamError(502, 'The upstream sent a tool call without a function name.'))
      return false
    }
    call.id ??= newId('call_')
    call.index = seq.begin('tool_call', {id: call.id, name: call.name})
    if (call.args) seq.push({type: 'tool_input_delta', index: call.index, json: call.args})
    return true
  }

  // Calls still waiting for their id or name are begun before anything else is: with a generated id, or, without
  // a name, as the stream's error. False once the stream has failed.
  function beginPending(): boolean {
    for (const call of calls.values()) if (call.index === undefined && !seq.done) begin(call)
    return !seq.done
  }

  function complete(): void {
    if (!beginPending()) return
    seq.end(finish ?? (calls.size > 0 ? 'tool_use' : 'end_turn'), usage)
  }

  return {
    push(chunk) {
      for (const event of sse.push(chunk)) onData(event.data)
      return seq.take()
    },
    end() {
      for (const event of sse.end()) onData(event.data)
      // A missing [DONE] after a finish_reason is a common quirk, not a truncation.
      if (finish !== undefined) complete()
      else seq.truncated()
      return seq.take()
    },
  }
}

// The choice with index 0 (an entry without an index counts as 0). A loop: this runs for every chunk of a stream.
function firstChoice(choices: unknown): JsonObject | undefined {
  for (const entry of asArray(choices)) {
    const choice = asObject(entry)
    if ((asNumber(choice.index) ?? 0) === 0) return choice
  }
  return undefined
}

export function createOpenAIStreamEncoder(opts: StreamEncoderOptions): StreamEncoder {
  const drop = opts.onDropped ?? (() => {})
  const created = Math.floor(Date.now() / 1000)
  const usageField = opts.includeUsage ? {usage: null} : {}
  // IR block index → position of the call among this message's tool calls, and whether arguments were sent.
  const calls = new Map<number, {index: number; hasArguments: boolean}>()
  // Every thinking block goes to the one reasoning_content.
  const thinking = thinkingStream()
  let id = opts.id
  let started = false
  let closed = false

  // Every chunk is `{id, object, created, model, ...body}`. Its leading fields are stringified once, as the id is
  // fixed by start(), which every chunk follows, and each body's stringified fields are framed after them: the
  // same bytes without building the spread object, which cost more than the rest of the encoder. No body has those
  // fields of its own, and JSON.stringify escapes line breaks, so the data is a single line.
  let head: string | undefined
  function frame(body: JsonObject): string {
    head ??= JSON.stringify({id, object: 'chat.completion.chunk', created, model: opts.model}).slice(0, -1)
    const fields = JSON.stringify(body)
    return `data: ${head}${fields.length > 2 ? `,${fields.slice(1)}` : '}'}\n\n`
  }

  function chunk(delta: JsonObject, finishReason: string | null = null, tokens?: IRTokenLogprob[]): string {
    const logprobs = tokens && {logprobs: encodeOpenAILogprobs(tokens)}
    return frame({choices: [{index: 0, delta, ...logprobs, finish_reason: finishReason}], ...usageField})
  }

  function start(upstreamId?: string): string {
    if (started) return ''
    started = true
    id ??= upstreamId ?? newId('chatcmpl-')
    return chunk({role: 'assistant', content: ''})
  }

  function end(reason: IRStopReason, usage: IRUsage | undefined): string {
    closed = true
    let out = start() + chunk({}, encodeFinishReason(reason))
    if (opts.includeUsage) {
      out += frame({choices: [], usage: encodeOpenAIUsage(usage ?? {inputTokens: 0, outputTokens: 0})})
    }
    return `${out}data: [DONE]\n\n`
  }

  function argumentsChunk(block: number, json: string): string {
    const call = calls.get(block)
    if (!call) return ''
    call.hasArguments = true
    return chunk({tool_calls: [{index: call.index, function: {arguments: json}}]})
  }

  function encodeOne(event: IRStreamEvent): string {
    switch (event.type) {
      case 'message_start':
        return start(event.id)
      case 'block_start': {
        if (event.kind === 'redacted_thinking') drop('redacted_thinking')
        if (event.kind === 'thinking') thinking.blockStart()
        if (event.kind !== 'tool_call') return start()
        const index = calls.size
        calls.set(event.index, {index, hasArguments: false})
        const fn = {name: event.name ?? '', arguments: ''}
        return start() + chunk({tool_calls: [{index, id: event.id ?? newId('call_'), type: 'function', function: fn}]})
      }
      case 'text_delta':
        return start() + chunk({content: event.text})
      case 'thinking_delta':
        return start() + chunk({reasoning_content: thinking.delta(event.text)})
      case 'tool_input_delta':
        return argumentsChunk(event.index, event.json)
      case 'signature_delta':
        drop('signature')
        return ''
      case 'logprobs':
        return start() + chunk({}, null, event.tokens)
      case 'block_stop':
        // Clients parse the concatenated arguments, and '' is not JSON.
        return calls.get(event.index)?.hasArguments === false ? argumentsChunk(event.index, '{}') : ''
      case 'message_end':
        return end(event.stopReason, event.usage)
      case 'error':
        closed = true
        return openAIStreamErrorEvent(event.message, event.status)
    }
  }

  return {
    encode(events) {
      let out = ''
      for (let i = 0; i < events.length && !closed; i++) {
        const event = events[i]!
        const next = events[i + 1]
        // Log probabilities ride on the chunk of the text they belong to, as OpenAI sends them.
        if (event.type === 'text_delta' && next?.type === 'logprobs') {
          out += start() + chunk({content: event.text}, null, next.tokens)
          i++
        } else out += encodeOne(event)
      }
      return out
    },
    finish() {
      return closed ? '' : end('end_turn', undefined)
    },
  }
}
