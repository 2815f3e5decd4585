import {newId} from '../ids.js'
import type {IRResponseBlock} from '../ir.js'
import {decodeOpenAIStreamError} from '../openai-errors.js'
import {createSseParser, type SseEvent} from '../sse.js'
import {BlockSequencer} from '../stream-state.js'
import type {StreamDecoder, StreamDecoderOptions} from '../types.js'
import {asArray, asNumber, asObject, asString, isObject, type JsonObject} from '../values.js'
import {
  decodeItem,
  decodeReasoningItem,
  decodeResponsesUsage,
  decodeStopReason,
  itemToolName,
  messageText,
} from './response.js'

// One upstream output item. Reasoning opens its IR block late: only its end tells thinking from redacted thinking.
interface Item {
  type: string
  block?: number
  // Whether deltas carried its content, so `output_item.done` need not.
  streamed: boolean
}

// Events that only repeat in full what the deltas already carried.
const REPEATS = new Set([
  'response.content_part.added',
  'response.content_part.done',
  'response.output_text.done',
  'response.refusal.done',
  'response.reasoning_summary_text.done',
  'response.reasoning_summary_part.done',
  'response.reasoning_text.done',
  'response.function_call_arguments.done',
  'response.custom_tool_call_input.done',
  'response.queued',
  'keepalive',
])

/** A custom tool's free text as a fragment of the IR's `{"input": text}` JSON. */
function inputFragment(text: string): string {
  return JSON.stringify(text).slice(1, -1)
}

export function createResponsesStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
  const drop = opts.onDropped ?? (() => {})
  const sse = createSseParser(opts.maxEventLength)
  const seq = new BlockSequencer()
  // Upstream output_index → the item.
  const items = new Map<number, Item>()
  let lastIndex = 0
  let sawToolCall = false

  function onEvent({event, data}: SseEvent): void {
    if (seq.done) return
    let payload: unknown
    try {
      payload = JSON.parse(data)
    } catch {
      return drop('unparseable stream event')
    }
    if (!isObject(payload)) return
    const type = asString(payload.type) ?? event ?? ''
    const outputIndex = asNumber(payload.output_index) ?? lastIndex
    const delta = asString(payload.delta) ?? ''
    switch (type) {
      case 'response.created':
      case 'response.in_progress': {
        const response = asObject(payload.response)
        return seq.start(asString(response.id), asString(response.model))
      }
      case 'response.output_item.added':
        lastIndex = outputIndex
        return onItemAdded(outputIndex, asObject(payload.item))
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        return onDelta(outputIndex, 'message', (index) => seq.push({type: 'text_delta', index, text: delta}), delta)
      case 'response.reasoning_summary_part.added':
        // Summary parts are joined with a blank line, as in a reasoning item decoded whole.
        if ((asNumber(payload.summary_index) ?? 0) > 0) onThinking(outputIndex, '\n\n')
        return
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        return onThinking(outputIndex, delta)
      case 'response.function_call_arguments.delta':
        return onDelta(
          outputIndex,
          'function_call',
          (index) => seq.push({type: 'tool_input_delta', index, json: delta}),
          delta,
        )
      case 'response.custom_tool_call_input.delta':
        return onDelta(
          outputIndex,
          'custom_tool_call',
          (index) => seq.push({type: 'tool_input_delta', index, json: inputFragment(delta)}),
          delta,
        )
      case 'response.output_item.done':
        return onItemDone(outputIndex, asObject(payload.item))
      case 'response.completed':
      case 'response.incomplete':
        return complete(asObject(payload.response))
      case 'response.failed':
        return seq.fail(decodeOpenAIStreamError(asObject(payload.response).error ?? {message: 'response failed'}))
      case 'error':
        // The live API nests the error under `error`; the API reference puts its fields on the event.
        return seq.fail(decodeOpenAIStreamError(isObject(payload.error) ? payload.error : payload))
      default:
        if (!REPEATS.has(type)) drop(`event.${type}`)
    }
  }

  function onItemAdded(outputIndex: number, item: JsonObject): void {
    const type = asString(item.type) ?? ''
    const entry: Item = {type, streamed: false}
    items.set(outputIndex, entry)
    if (type === 'message') entry.block = seq.begin('text')
    else if (type === 'function_call' || type === 'custom_tool_call') {
      sawToolCall = true
      const id = asString(item.call_id) ?? newId('call_')
      entry.block = seq.begin('tool_call', {id, name: itemToolName(item)})
      if (type === 'custom_tool_call') seq.push({type: 'tool_input_delta', index: entry.block, json: '{"input":"'})
    } else if (type !== 'reasoning') drop(`output.${type}`)
  }

  // Content for an item's open block; deltas of an item that is not the open one cannot be placed in the IR.
  function onDelta(outputIndex: number, type: string, push: (block: number) => void, delta: string): void {
    const item = items.get(outputIndex)
    if (item?.type !== type || item.block === undefined || delta === '') return
    if (seq.openIndex !== item.block) return drop('interleaved output items')
    item.streamed = true
    push(item.block)
  }

  function onThinking(outputIndex: number, text: string): void {
    const item = items.get(outputIndex)
    if (item?.type !== 'reasoning' || text === '') return
    if (item.block === undefined) {
      if (text === '\n\n') return
      item.block = seq.begin('thinking')
    }
    onDelta(outputIndex, 'reasoning', (index) => seq.push({type: 'thinking_delta', index, text}), text)
  }

  function onItemDone(outputIndex: number, item: JsonObject): void {
    const entry = items.get(outputIndex)
    if (!entry || entry.type !== item.type) {
      // Never announced: taken whole from its final form.
      const block = decodeItem(item, drop)
      if (block) emitBlock(block)
      return
    }
    if (entry.type === 'reasoning') return finishReasoning(entry, item)
    if (entry.block === undefined || seq.openIndex !== entry.block) return
    const index = entry.block
    if (!entry.streamed) {
      const content =
        entry.type === 'message'
          ? messageText(item)
          : entry.type === 'function_call'
            ? (asString(item.arguments) ?? '')
            : inputFragment(asString(item.input) ?? '')
      if (content !== '') {
        seq.push(
          entry.type === 'message'
            ? {type: 'text_delta', index, text: content}
            : {type: 'tool_input_delta', index, json: content},
        )
      }
    }
    if (entry.type === 'custom_tool_call') seq.push({type: 'tool_input_delta', index, json: '"}'})
    seq.close()
  }

  function finishReasoning(entry: Item, item: JsonObject): void {
    const encrypted = asString(item.encrypted_content)
    if (entry.block === undefined) {
      const block = decodeReasoningItem(item)
      if (block) emitBlock(block)
      else drop('reasoning without summary')
      return
    }
    if (seq.openIndex !== entry.block) return
    if (encrypted) seq.push({type: 'signature_delta', index: entry.block, signature: encrypted})
    seq.close()
  }

  // A whole block, for items whose content came only in their final form.
  function emitBlock(block: IRResponseBlock): void {
    if (block.type === 'redacted_thinking') {
      seq.begin('redacted_thinking', {data: block.data})
    } else if (block.type === 'tool_call') {
      sawToolCall = true
      const index = seq.begin('tool_call', {id: block.id || newId('call_'), name: block.name})
      seq.push({type: 'tool_input_delta', index, json: JSON.stringify(block.input)})
    } else {
      const index = seq.begin(block.type)
      if (block.text !== '') {
        seq.push(
          block.type === 'text'
            ? {type: 'text_delta', index, text: block.text}
            : {type: 'thinking_delta', index, text: block.text},
        )
      }
      if (block.type === 'thinking' && block.signature)
        seq.push({type: 'signature_delta', index, signature: block.signature})
    }
    seq.close()
  }

  function complete(response: JsonObject): void {
    seq.start(asString(response.id), asString(response.model))
    // Some servers send no item events at all, only the final response.
    if (items.size === 0) for (const value of asArray(response.output)) onItemDone(-1, asObject(value))
    const usage = isObject(response.usage) ? decodeResponsesUsage(response.usage) : undefined
    seq.end(decodeStopReason(response, sawToolCall), usage)
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
