import {HttpStatusError} from '../http-status-error.js'
import type {IRResponse, IRResponseBlock, IRStreamEvent, IRTokenLogprob, IRUsage} from './ir.js'

/** A collected stream that carried an error or ended early; `status` is what the client is answered. */
export class StreamFailure extends HttpStatusError {
  override name = 'StreamFailure'

  constructor(message: string, status: number) {
    super(message, status, 'stream_failure')
  }
}

/**
 * Folds a complete IR event stream into one response, for clients that asked for a plain answer from an
 * upstream that only streams. Throws StreamFailure when the stream carried an error or never finished.
 */
export function collectStream(events: readonly IRStreamEvent[], model: string): IRResponse {
  let id: string | undefined
  let usage: IRUsage = {inputTokens: 0, outputTokens: 0}
  const blocks = new Map<number, IRResponseBlock & {json?: string}>()
  let end: Extract<IRStreamEvent, {type: 'message_end'}> | undefined
  const logprobs: IRTokenLogprob[] = []
  for (const event of events) {
    switch (event.type) {
      case 'message_start':
        id = event.id
        if (event.usage) usage = event.usage
        break
      case 'block_start':
        if (event.kind === 'text') blocks.set(event.index, {type: 'text', text: ''})
        else if (event.kind === 'thinking')
          blocks.set(event.index, {
            type: 'thinking',
            text: '',
            ...(event.signature ? {signature: event.signature} : {}),
          })
        else if (event.kind === 'redacted_thinking')
          blocks.set(event.index, {type: 'redacted_thinking', data: event.data ?? ''})
        else
          blocks.set(event.index, {type: 'tool_call', id: event.id ?? '', name: event.name ?? '', input: {}, json: ''})
        break
      case 'text_delta':
      case 'thinking_delta': {
        const block = blocks.get(event.index)
        if (block && (block.type === 'text' || block.type === 'thinking')) block.text += event.text
        break
      }
      case 'signature_delta': {
        const block = blocks.get(event.index)
        if (block?.type === 'thinking') block.signature = (block.signature ?? '') + event.signature
        break
      }
      case 'tool_input_delta': {
        const block = blocks.get(event.index)
        if (block?.type === 'tool_call') block.json = (block.json ?? '') + event.json
        break
      }
      case 'block_stop':
        break
      case 'logprobs':
        logprobs.push(...event.tokens)
        break
      case 'message_end':
        end = event
        if (event.usage) usage = event.usage
        break
      case 'error':
        throw new StreamFailure(event.message, event.status)
    }
  }
  if (!end) throw new StreamFailure('The upstream stream ended before the message was complete.', 502)
  const content = [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, block]) => {
      if (block.type !== 'tool_call') return block
      const {json, ...call} = block
      return {...call, input: json ? (JSON.parse(json) as Record<string, unknown>) : {}}
    })
  return {
    ...(id ? {id} : {}),
    model,
    content,
    stopReason: end.stopReason,
    ...(end.stopSequence ? {stopSequence: end.stopSequence} : {}),
    ...(logprobs.length > 0 && {logprobs}),
    usage,
  }
}
