import type {IRStopReason, IRStreamEvent, IRUsage} from '../ir.js'
import type {StreamEncoder, StreamEncoderOptions} from '../types.js'
import type {JsonObject} from '../values.js'
import {responsesErrorEventBody, responsesFailure} from './errors.js'
import {
  incompleteDetails,
  itemIdSuffix,
  messageItem,
  newResponseId,
  outputText,
  reasoningItem,
  responseObject,
  toolCallItem,
  type ClientToolNames,
  type ResponseState,
} from './response.js'
import {clientToolNames} from './tools.js'

type BlockStart = IRStreamEvent & {type: 'block_start'}
type ToolCallKind = 'function_call' | 'custom_tool_call' | 'tool_search_call'
type ItemPart = 'content_index' | 'summary_index'

// The output item being streamed. `text` gathers what its `.done` events and the final item repeat in full.
interface OpenItem {
  kind: 'message' | 'reasoning' | ToolCallKind
  outputIndex: number
  suffix: string
  itemId: string
  text: string
  summaryOpen: boolean
  encrypted?: string
  callId: string
  irName: string
  // See `delta`: the start of this item's delta events, '' for items streamed without deltas.
  deltaHead: string
}

// The delta event of each kind of item, if it has one, and where in the item its deltas go.
const DELTA_EVENTS: Partial<Record<OpenItem['kind'], {type: string; part?: ItemPart}>> = {
  message: {type: 'response.output_text.delta', part: 'content_index'},
  reasoning: {type: 'response.reasoning_summary_text.delta', part: 'summary_index'},
  function_call: {type: 'response.function_call_arguments.delta'},
}

// `event: TYPE` and the event's JSON up to its last field, the sequence number: `{"type":TYPE,…body,`. Framing the
// stringified body as text gives the bytes of stringifying `{type, ...body, sequence_number}` without building that
// object by spreading, which cost more than all the rest of a converted stream. No body has a `type` or
// `sequence_number` field of its own, and JSON.stringify escapes line breaks, so the data is a single line.
function eventHead(type: string, body: JsonObject): string {
  const fields = JSON.stringify(body)
  return `event: ${type}\ndata: {"type":${JSON.stringify(type)},${fields.length > 2 ? `${fields.slice(1, -1)},` : ''}`
}

/**
 * IR events → the Responses API's typed events, each `event: TYPE` with a `sequence_number` counting from 0:
 * response.created, response.in_progress, per output item `output_item.added` … `output_item.done`, and
 * response.completed / response.incomplete (or response.failed and error) with the whole response.
 */
export function createResponsesStreamEncoder(opts: StreamEncoderOptions): StreamEncoder {
  const writer = new ResponsesEventWriter(opts)
  return {
    encode(events) {
      let out = ''
      for (const event of events) {
        if (writer.closed) break
        out += writer.write(event)
      }
      return out
    },
    finish() {
      return writer.closed ? '' : writer.end('end_turn', undefined)
    },
  }
}

class ResponsesEventWriter {
  closed = false
  private readonly names: ClientToolNames
  private readonly createdAt = Math.floor(Date.now() / 1000)
  private readonly output: JsonObject[] = []
  private id: string | undefined
  private sequence = 0
  private started = false
  private inputUsage: IRUsage | undefined
  private open: OpenItem | undefined

  constructor(private readonly opts: StreamEncoderOptions) {
    this.names = clientToolNames(opts.request)
  }

  write(event: IRStreamEvent): string {
    switch (event.type) {
      case 'message_start':
        this.inputUsage = event.usage
        return this.start(event.id)
      case 'block_start':
        return this.openItem(event)
      case 'text_delta':
        return this.textDelta(event.text)
      case 'thinking_delta':
        return this.thinkingDelta(event.text)
      case 'signature_delta':
        if (this.open?.kind === 'reasoning') this.open.encrypted = (this.open.encrypted ?? '') + event.signature
        else this.drop('signature')
        return ''
      case 'tool_input_delta':
        return this.toolInputDelta(event.json)
      case 'logprobs':
        this.drop('logprobs')
        return ''
      case 'block_stop':
        return this.closeItem()
      case 'message_end':
        return this.end(event.stopReason, event.usage)
      case 'error':
        return this.fail(event.message, event.status)
    }
  }

  end(reason: IRStopReason, usage: IRUsage | undefined): string {
    const out = this.start() + this.closeItem()
    this.closed = true
    const details = incompleteDetails(reason)
    const response = this.response(details ? 'incomplete' : 'completed', {
      usage: usage ?? this.inputUsage ?? {inputTokens: 0, outputTokens: 0},
      incompleteDetails: details,
    })
    return out + this.emit(details ? 'response.incomplete' : 'response.completed', {response})
  }

  // Codex classifies a failure (retry or not, context window, quota) only from `response.failed`'s error code and
  // ignores `error` events; openai-node raises an APIError only for the `error` event. Both are sent, the failed
  // response first, so each client reports the failure. The item left open is not finished.
  private fail(message: string, status: number): string {
    const out = this.start()
    this.closed = true
    const response = this.response('failed', {error: responsesFailure(message, status)})
    return out + this.emit('response.failed', {response}) + this.emit('error', responsesErrorEventBody(message, status))
  }

  private drop(field: string): void {
    this.opts.onDropped?.(field)
  }

  private emit(type: string, body: JsonObject): string {
    return this.frame(eventHead(type, body))
  }

  private frame(head: string): string {
    return `${head}"sequence_number":${this.sequence++}}\n\n`
  }

  // Deltas are nearly every event of a stream, and all of an item's deltas share their leading fields: those are
  // stringified once, when the item opens, and each delta adds its text (and `rest`, the fields after it).
  private delta(text: string, rest = ''): string {
    return this.frame(`${this.open!.deltaHead}"delta":${JSON.stringify(text)},${rest}`)
  }

  private response(status: ResponseState['status'], extra: Partial<ResponseState> = {}): JsonObject {
    const state = {id: this.id ?? '', createdAt: this.createdAt, model: this.opts.model, status, output: this.output}
    return responseObject({...state, ...extra}, this.opts.request)
  }

  private start(upstreamId?: string): string {
    if (this.started) return ''
    this.started = true
    this.id = this.opts.id ?? upstreamId ?? newResponseId()
    const response = this.response('in_progress')
    return this.emit('response.created', {response}) + this.emit('response.in_progress', {response})
  }

  private openItem(event: BlockStart): string {
    const out = this.start() + this.closeItem()
    const outputIndex = this.output.length
    const suffix = itemIdSuffix(this.id ?? '', outputIndex)
    const base = {
      outputIndex,
      suffix,
      text: '',
      summaryOpen: false,
      callId: event.id ?? '',
      irName: event.name ?? '',
      deltaHead: '',
    }
    let item: JsonObject
    if (event.kind === 'text') {
      item = messageItem(`msg_${suffix}`, undefined)
      this.open = {...base, kind: 'message', itemId: String(item.id)}
    } else if (event.kind === 'tool_call') {
      if (event.signature !== undefined) this.drop('tool_call.signature')
      item = toolCallItem(this.names, {idSuffix: suffix, callId: base.callId, irName: base.irName, json: undefined})
      this.open = {...base, kind: item.type as ToolCallKind, itemId: String(item.id)}
    } else {
      // Redacted thinking is a reasoning item with nothing but its encrypted content.
      item = reasoningItem(`rs_${suffix}`, undefined)
      this.open = {...base, kind: 'reasoning', itemId: String(item.id), encrypted: event.data}
    }
    const deltas = DELTA_EVENTS[this.open.kind]
    if (deltas) this.open.deltaHead = eventHead(deltas.type, this.at(deltas.part))
    let added = out + this.emit('response.output_item.added', {output_index: outputIndex, item})
    if (event.kind === 'text')
      added += this.emit('response.content_part.added', {...this.at('content_index'), part: outputText('')})
    return added
  }

  // Where an event of the open item points: its id and output index, and the part within it (always the first).
  private at(part?: ItemPart): JsonObject {
    const open = this.open!
    return {item_id: open.itemId, output_index: open.outputIndex, ...(part !== undefined && {[part]: 0})}
  }

  private textDelta(delta: string): string {
    if (this.open?.kind !== 'message') return ''
    this.open.text += delta
    return this.delta(delta, '"logprobs":[],')
  }

  private thinkingDelta(delta: string): string {
    if (this.open?.kind !== 'reasoning') return ''
    let out = ''
    if (!this.open.summaryOpen) {
      this.open.summaryOpen = true
      const part = {type: 'summary_text', text: ''}
      out = this.emit('response.reasoning_summary_part.added', {...this.at('summary_index'), part})
    }
    this.open.text += delta
    return out + this.delta(delta)
  }

  // Custom tool input arrives as fragments of the IR's `{"input": …}` JSON; it is sent whole once complete, as are
  // a tool search's arguments (an object, which has no delta event).
  private toolInputDelta(json: string): string {
    if (this.open === undefined || this.open.kind === 'message' || this.open.kind === 'reasoning') return ''
    this.open.text += json
    if (this.open.kind !== 'function_call') return ''
    return this.delta(json)
  }

  private closeItem(): string {
    const open = this.open
    if (!open) return ''
    let out = ''
    let item: JsonObject
    if (open.kind === 'message') {
      item = messageItem(open.itemId, open.text)
      out += this.emit('response.output_text.done', {...this.at('content_index'), text: open.text, logprobs: []})
      out += this.emit('response.content_part.done', {...this.at('content_index'), part: outputText(open.text)})
    } else if (open.kind === 'reasoning') {
      item = reasoningItem(open.itemId, open.summaryOpen ? open.text : undefined, open.encrypted)
      if (open.summaryOpen) {
        const summary = this.at('summary_index')
        out += this.emit('response.reasoning_summary_text.done', {...summary, text: open.text})
        out += this.emit('response.reasoning_summary_part.done', {
          ...summary,
          part: {type: 'summary_text', text: open.text},
        })
      }
    } else {
      item = toolCallItem(this.names, {
        idSuffix: open.suffix,
        callId: open.callId,
        irName: open.irName,
        json: open.text,
      })
      out += this.closeToolCall(item)
    }
    this.output.push(item)
    out += this.emit('response.output_item.done', {output_index: open.outputIndex, item})
    this.open = undefined
    return out
  }

  private closeToolCall(item: JsonObject): string {
    if (item.type === 'function_call') {
      // A call without arguments gets `{}`, in a delta too, so that its deltas add up to the final arguments.
      const empty = this.open!.text === ''
      const delta = empty ? this.delta('{}') : ''
      const done = {...this.at(), name: item.name, arguments: item.arguments}
      return delta + this.emit('response.function_call_arguments.done', done)
    }
    if (item.type === 'tool_search_call') return ''
    const input = String(item.input)
    const delta = input === '' ? '' : this.emit('response.custom_tool_call_input.delta', {...this.at(), delta: input})
    return delta + this.emit('response.custom_tool_call_input.done', {...this.at(), input})
  }
}
