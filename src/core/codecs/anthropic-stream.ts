import {decodeAnthropicStreamError, anthropicStreamErrorEvent} from './anthropic-errors.js'
import {
  DIRECT_CALLER,
  decodeAnthropicUsage,
  decodeStopReason,
  encodeAnthropicUsage,
  encodeStopReason,
} from './anthropic-response.js'
import {newId} from './ids.js'
import type {IRStopReason, IRStreamEvent, IRUsage} from './ir.js'
import {createSseParser, type SseEvent} from './sse.js'
import {BlockSequencer} from './stream-state.js'
import type {DropHandler, StreamDecoder, StreamDecoderOptions, StreamEncoder, StreamEncoderOptions} from './types.js'
import {asNumber, asObject, asString, isObject, type JsonObject} from './values.js'

export function createAnthropicStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
  const drop = opts.onDropped ?? (() => {})
  const sse = createSseParser(opts.maxEventLength)
  const seq = new BlockSequencer()
  // Upstream block index → IR block index, for the blocks the IR can carry.
  const blocks = new Map<number, number>()
  let usage: IRUsage | undefined

  function onEvent({event, data}: SseEvent): void {
    if (seq.done) return
    let payload: unknown
    try {
      payload = JSON.parse(data)
    } catch {
      return drop('unparseable stream event')
    }
    if (!isObject(payload)) return
    const index = asNumber(payload.index) ?? -1
    // Some Anthropic-compatible servers send a bare {"error": …} without a type or event name.
    switch (asString(payload.type) ?? event ?? (payload.error === undefined ? undefined : 'error')) {
      case 'message_start': {
        const message = asObject(payload.message)
        usage = decodeAnthropicUsage(message.usage)
        return seq.start(asString(message.id), asString(message.model), usage)
      }
      case 'content_block_start':
        return onBlockStart(index, asObject(payload.content_block))
      case 'content_block_delta':
        return onDelta(blocks.get(index), asObject(payload.delta))
      case 'content_block_stop':
        if (blocks.has(index) && seq.openIndex === blocks.get(index)) seq.close()
        return
      case 'message_delta': {
        const delta = asObject(payload.delta)
        usage = decodeAnthropicUsage(payload.usage, usage)
        const stopReason = decodeStopReason(asString(delta.stop_reason) ?? 'end_turn')
        return seq.end(stopReason, usage, asString(delta.stop_sequence))
      }
      case 'error':
        return seq.fail(decodeAnthropicStreamError(payload.error))
      case 'ping':
      case 'message_stop':
        return
      default:
        drop(`event.${String(payload.type)}`)
    }
  }

  function onBlockStart(upstreamIndex: number, block: JsonObject): void {
    let index: number
    switch (block.type) {
      case 'text':
        index = seq.begin('text')
        if (asString(block.text)) seq.push({type: 'text_delta', index, text: String(block.text)})
        break
      case 'thinking':
        index = seq.begin('thinking')
        if (asString(block.thinking)) seq.push({type: 'thinking_delta', index, text: String(block.thinking)})
        if (asString(block.signature)) seq.push({type: 'signature_delta', index, signature: String(block.signature)})
        break
      case 'redacted_thinking':
        index = seq.begin('redacted_thinking', {data: asString(block.data) ?? ''})
        break
      case 'tool_use': {
        index = seq.begin('tool_call', {id: asString(block.id) ?? newId('toolu_'), name: asString(block.name) ?? ''})
        const input = asObject(block.input)
        if (Object.keys(input).length > 0) seq.push({type: 'tool_input_delta', index, json: JSON.stringify(input)})
        break
      }
      default:
        return drop(`content.${String(block.type)}`)
    }
    blocks.set(upstreamIndex, index)
  }

  function onDelta(index: number | undefined, delta: JsonObject): void {
    if (index === undefined) return
    const text =
      asString(delta.text) ?? asString(delta.thinking) ?? asString(delta.signature) ?? asString(delta.partial_json)
    if (!text) return
    if (delta.type === 'text_delta') seq.push({type: 'text_delta', index, text})
    else if (delta.type === 'thinking_delta') seq.push({type: 'thinking_delta', index, text})
    else if (delta.type === 'signature_delta') seq.push({type: 'signature_delta', index, signature: text})
    else if (delta.type === 'input_json_delta') seq.push({type: 'tool_input_delta', index, json: text})
    else drop(`delta.${String(delta.type)}`)
  }

  return {
    push(chunk) {
      for (const event of sse.push(chunk)) onEvent(event)
      return seq.take()
    },
    end() {
      for (const event of sse.end()) onEvent(event)
      seq.truncated()
      return seq.take()
    },
  }
}

export function createAnthropicStreamEncoder(opts: StreamEncoderOptions): StreamEncoder {
  const drop = opts.onDropped ?? (() => {})
  const writer = new AnthropicEventWriter(opts)
  return {
    encode(events) {
      let out = ''
      for (const event of events) {
        if (writer.closed) break
        out += encodeEvent(writer, event, drop)
      }
      return out
    },
    finish() {
      return writer.closed ? '' : writer.end('end_turn', undefined)
    },
  }
}

function encodeEvent(writer: AnthropicEventWriter, event: IRStreamEvent, drop: DropHandler): string {
  switch (event.type) {
    case 'message_start':
      return writer.start(event.id, event.usage)
    case 'block_start': {
      if (event.kind === 'text') return writer.openBlock('text', {type: 'text', text: ''})
      // The API opens a thinking block with an empty signature too; the signature_delta fills it in.
      if (event.kind === 'thinking') {
        return writer.openBlock('thinking', {type: 'thinking', thinking: '', signature: ''})
      }
      if (event.kind === 'redacted_thinking') {
        return writer.openBlock('redacted_thinking', {type: 'redacted_thinking', data: event.data ?? ''})
      }
      if (event.signature !== undefined) drop('tool_call.signature')
      const id = event.id ?? newId('toolu_')
      return writer.openBlock('tool_call', {
        type: 'tool_use',
        id,
        name: event.name ?? '',
        input: {},
        caller: DIRECT_CALLER,
      })
    }
    case 'text_delta':
      return writer.delta({type: 'text_delta', text: event.text})
    case 'thinking_delta':
      return writer.delta({type: 'thinking_delta', thinking: event.text})
    case 'signature_delta':
      if (writer.openKind === 'thinking') return writer.delta({type: 'signature_delta', signature: event.signature})
      drop('signature')
      return ''
    case 'tool_input_delta':
      return writer.delta({type: 'input_json_delta', partial_json: event.json})
    case 'logprobs':
      drop('logprobs')
      return ''
    case 'block_stop':
      return writer.closeBlock()
    case 'message_end':
      return writer.end(event.stopReason, event.usage, event.stopSequence)
    case 'error':
      return writer.fail(event.message, event.status)
  }
}

// Anthropic's event framing: one message_start, numbered content blocks opened and closed in turn, and a
// message_delta with the usage before message_stop. Nothing is written once the message is closed.
class AnthropicEventWriter {
  private started = false
  private ended = false
  private open: {index: number; kind: string} | undefined
  private next = 0
  private inputUsage: IRUsage | undefined

  constructor(private readonly opts: StreamEncoderOptions) {}

  get closed(): boolean {
    return this.ended
  }

  get openKind(): string | undefined {
    return this.open?.kind
  }

  start(id?: string, usage?: IRUsage): string {
    if (this.started) return ''
    this.started = true
    this.inputUsage = usage
    const message = {
      id: this.opts.id ?? id ?? newId('msg_'),
      type: 'message',
      role: 'assistant',
      model: this.opts.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: encodeAnthropicUsage(usage ?? {inputTokens: 0, outputTokens: 0}),
    }
    return emit('message_start', {message})
  }

  closeBlock(): string {
    if (!this.open) return ''
    const index = this.open.index
    this.open = undefined
    return emit('content_block_stop', {index})
  }

  openBlock(kind: string, contentBlock: JsonObject): string {
    const out = this.start() + this.closeBlock()
    this.open = {index: this.next++, kind}
    return out + emit('content_block_start', {index: this.open.index, content_block: contentBlock})
  }

  delta(body: JsonObject): string {
    return this.open ? emit('content_block_delta', {index: this.open.index, delta: body}) : ''
  }

  end(reason: IRStopReason, usage: IRUsage | undefined, stopSequence?: string): string {
    this.ended = true
    const final = encodeAnthropicUsage(usage ?? this.inputUsage ?? {inputTokens: 0, outputTokens: 0})
    return (
      this.start() +
      this.closeBlock() +
      emit('message_delta', {
        delta: {stop_reason: encodeStopReason(reason), stop_sequence: stopSequence ?? null},
        usage: final,
      }) +
      emit('message_stop')
    )
  }

  fail(message: string, status: number): string {
    this.ended = true
    return anthropicStreamErrorEvent(message, status)
  }
}

// The event is `{type, ...body}`, framed as text around the stringified body: the same bytes without building the
// spread object, which is slow to build and to stringify (40 % of this encoder's time). No body has a `type`
// of its own, and JSON.stringify escapes line breaks, so the data is a single line.
function emit(type: string, body: JsonObject = {}): string {
  const fields = JSON.stringify(body)
  return `event: ${type}\ndata: {"type":${JSON.stringify(type)}${fields.length > 2 ? `,${fields.slice(1)}` : '}'}\n\n`
}
