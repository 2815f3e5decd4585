// Kiro event-stream bytes → IR stream events (upstreams.md §7.4). Kiro has no terminal event: the answer is
// complete when the bytes end on a frame boundary, and the proxy's transport must report a connection that
// broke off, since that can end on a boundary too.
import {streamError} from '../errors.js'
import {newId} from '../ids.js'
import type {IRStopReason, IRUsage} from '../ir.js'
import {BlockSequencer} from '../stream-state.js'
import type {StreamDecoder, StreamDecoderOptions} from '../types.js'
import {asNumber, asObject, asString, compact, isObject, parseJsonObject, type JsonObject} from '../values.js'
import {createFrameReader, KiroFrameError, type KiroFrame} from './eventstream.js'
import {kiroContextWindow} from './models.js'
import {createTextSplitter, type TextPiece} from './text.js'

export interface KiroStreamOptions extends StreamDecoderOptions {
  // The model the client asked for: shown in message_start and choosing the context window of the estimate.
  model?: string
  // Shortened tool name → the client's name, from encodeKiroRequest.
  toolNameMap?: Record<string, string>
}

// Metadata the client cannot use; never shown as text.
const IGNORED_EVENTS = new Set([
  'meteringEvent',
  'messageMetadataEvent',
  'followupPromptEvent',
  'codeReferenceEvent',
  'supplementaryWebLinksEvent',
  'citationEvent',
  'intentsEvent',
  'codeEvent',
  'interactionComponentsEvent',
  'toolResultEvent',
  'dryRunSucceedEvent',
])
const EVENT_TYPES = new Set([
  ...IGNORED_EVENTS,
  'assistantResponseEvent',
  'toolUseEvent',
  'reasoningContentEvent',
  'contextUsageEvent',
  'metadataEvent',
  'invalidStateEvent',
])

const STOP_REASONS = new Map<string, IRStopReason>([
  ['END_TURN', 'end_turn'],
  ['TOOL_USE', 'tool_use'],
  ['MAX_TOKENS', 'max_tokens'],
  ['MODEL_CONTEXT_WINDOW_EXCEEDED', 'max_tokens'],
  ['CONTENT_FILTERED', 'content_filter'],
  ['PAUSE_TURN', 'other'],
])

interface PendingCall {
  id: string
  name: string
  input: string
}

// Throttling is the account's rate limit and validation the request's fault; anything else went wrong upstream.
function exceptionStatus(type: string): number {
  if (/throttling/i.test(type)) return 429
  if (/validation/i.test(type)) return 400
  return 502
}

function describe(payload: unknown): string {
  if (typeof payload === 'string') return payload
  if (payload === null) return 'no details'
  return asString(asObject(payload).message) ?? JSON.stringify(payload)
}

// CLIProxyAPIPlus also sees `{"assistantResponseEvent": {…}}`, sometimes without the `:event-type` header.
function unwrap(frame: KiroFrame): {type: string | undefined; payload: JsonObject} {
  const payload = asObject(frame.payload)
  const keys = Object.keys(payload)
  const only = keys.length === 1 ? keys[0] : undefined
  const type = frame.eventType ?? (only !== undefined && EVENT_TYPES.has(only) ? only : undefined)
  const inner = type !== undefined && Object.hasOwn(payload, type) ? payload[type] : undefined
  return {type, payload: isObject(inner) ? inner : payload}
}

// Tool calls are emitted whole, once their `stop` arrives: Kiro may interleave fragments of several calls,
// and a call whose joined arguments are not a JSON object must fail before any of it reaches the client.
//
// Usage comes from `metadataEvent.tokenUsage` when Kiro sends one. Otherwise output is estimated as
// characters / 4 (CLIProxyAPIPlus) over text, thinking and tool calls, and input as the context window
// (1M for Opus, else 200k) × `contextUsagePercentage` / 100 minus that output (AIClient-2-API), 0 without
// a percentage.
export function createKiroStreamDecoder(opts: KiroStreamOptions = {}): StreamDecoder {
  const drop = opts.onDropped ?? (() => {})
  const clientNames = new Map(Object.entries(opts.toolNameMap ?? {}))
  const frames = createFrameReader(opts.maxEventLength)
  const seq = new BlockSequencer()
  const splitter = createTextSplitter()
  const id = newId('msg_')
  const calls = new Map<string, PendingCall>()
  const finished = new Set<string>()
  const seen = {frame: false, text: false, thinking: false, toolCall: false}
  let lastCall: PendingCall | undefined
  let lastContent: string | undefined
  let signed = false
  let outputChars = 0
  let contextPercent: number | undefined
  let tokenUsage: JsonObject | undefined
  let stopReason: string | undefined

  function fail(status: number, message: string): void {
    seq.fail(streamError(status, message))
  }

  function onFrame(frame: KiroFrame): void {
    if (seq.done) return
    seen.frame = true
    if (frame.messageType === 'exception') {
      const type = frame.exceptionType ?? 'exception'
      return fail(exceptionStatus(type), `Kiro ${type}: ${describe(frame.payload)}`)
    }
    if (frame.messageType === 'error') {
      const code = frame.errorCode === undefined ? '' : ` ${frame.errorCode}`
      return fail(502, `Kiro error${code}: ${frame.errorMessage ?? describe(frame.payload)}`)
    }
    seq.start(id, opts.model)
    const {type, payload} = unwrap(frame)
    switch (type) {
      case 'assistantResponseEvent':
        return onContent(asString(payload.content))
      case 'toolUseEvent':
        return onToolUse(payload)
      case 'reasoningContentEvent':
        return onReasoning(payload)
      case 'contextUsageEvent':
        contextPercent = asNumber(payload.contextUsagePercentage) ?? contextPercent
        return
      case 'metadataEvent':
        if (isObject(payload.tokenUsage)) tokenUsage = payload.tokenUsage
        stopReason = asString(payload.stopReason) ?? stopReason
        return
      case 'invalidStateEvent': {
        // Its reasons (e.g. an invalid task plan) concern the request, so another account would fare no better.
        const reason = asString(payload.reason)
        return fail(400, `Kiro reported an invalid state${reason ? ` (${reason})` : ''}: ${describe(payload)}`)
      }
      default:
        if (type === undefined || !IGNORED_EVENTS.has(type)) drop(`event.${type ?? 'untyped'}`)
    }
  }

  // Kiro sometimes sends a content event twice in a row (AIClient-2-API drops the copy).
  function onContent(content: string | undefined): void {
    if (!content) return
    if (content === lastContent) return drop('duplicate content event')
    lastContent = content
    emit(splitter.push(content))
  }

  function emit(pieces: TextPiece[]): void {
    for (const piece of pieces) {
      if (piece.type === 'call') {
        emitCall(newId('toolu_'), piece.name, piece.input)
        continue
      }
      if (piece.type === 'thinking') {
        seen.thinking = true
        seq.push({type: 'thinking_delta', index: thinkingBlock(), text: piece.text})
      } else {
        seen.text = true
        seq.push({type: 'text_delta', index: seq.ensure('text'), text: piece.text})
      }
      outputChars += piece.text.length
    }
  }

  // Text, tool calls and reasoning are separate blocks; whatever text is held back comes first.
  function interrupt(): void {
    emit(splitter.flush())
    lastContent = undefined
  }

  // A signature ends its thinking block: later reasoning opens a new one.
  function thinkingBlock(): number {
    const index = signed ? seq.begin('thinking') : seq.ensure('thinking')
    signed = false
    return index
  }

  function onReasoning(payload: JsonObject): void {
    interrupt()
    const redacted = asString(payload.redactedContent)
    if (redacted) {
      seen.thinking = true
      seq.begin('redacted_thinking', {data: redacted})
      seq.close()
    }
    const text = asString(payload.text)
    if (text) {
      seen.thinking = true
      outputChars += text.length
      seq.push({type: 'thinking_delta', index: thinkingBlock(), text})
    }
    const signature = asString(payload.signature)
    if (signature) {
      seq.push({type: 'signature_delta', index: thinkingBlock(), signature})
      signed = true
    }
  }

  // Fragments share a toolUseId; continuations may lack the name or even the id, and `input` may come as an
  // object instead of JSON text (CLIProxyAPIPlus).
  function onToolUse(payload: JsonObject): void {
    interrupt()
    const toolUseId = asString(payload.toolUseId) ?? lastCall?.id
    if (toolUseId === undefined) return drop('toolUseEvent without toolUseId')
    if (finished.has(toolUseId)) return drop('toolUseEvent after its stop')
    let call = calls.get(toolUseId)
    if (!call) {
      call = {id: toolUseId, name: '', input: ''}
      calls.set(toolUseId, call)
    }
    call.name ||= asString(payload.name) ?? ''
    if (typeof payload.input === 'string') call.input += payload.input
    else if (isObject(payload.input)) call.input = JSON.stringify(payload.input)
    lastCall = call
    if (payload.stop === true) finishCall(call, 'has arguments that are not a JSON object')
  }

  function finishCall(call: PendingCall, problem: string): void {
    calls.delete(call.id)
    finished.add(call.id)
    if (lastCall === call) lastCall = undefined
    const input = parseJsonObject(call.input)
    if (input === undefined) return fail(502, `Kiro tool call ${call.id} ${problem}`)
    if (call.name === '') return fail(502, `Kiro tool call ${call.id} has no name`)
    emitCall(call.id, call.name, input)
  }

  function emitCall(callId: string, name: string, input: JsonObject): void {
    seen.toolCall = true
    const json = JSON.stringify(input)
    outputChars += name.length + json.length
    const index = seq.begin('tool_call', {id: callId, name: clientNames.get(name) ?? name})
    seq.push({type: 'tool_input_delta', index, json})
    seq.close()
  }

  function usage(): IRUsage {
    const reported = tokenUsage ?? {}
    const outputTokens = asNumber(reported.outputTokens) ?? Math.ceil(outputChars / 4)
    const cacheRead = asNumber(reported.cacheReadInputTokens)
    const cacheWrite = asNumber(reported.cacheWriteInputTokens)
    const uncached = asNumber(reported.uncachedInputTokens)
    const window = kiroContextWindow(opts.model)
    const estimated = contextPercent === undefined ? 0 : Math.round((window * contextPercent) / 100) - outputTokens
    const inputTokens =
      uncached === undefined ? Math.max(0, estimated) : uncached + (cacheRead ?? 0) + (cacheWrite ?? 0)
    return compact({inputTokens, outputTokens, cachedInputTokens: cacheRead, cacheCreationInputTokens: cacheWrite})
  }

  // Kiro's own reason wins, except that a turn with tool calls must say tool_use for clients to run them.
  // Without one: an answer that is only reasoning ran out of tokens while thinking.
  function finalStopReason(): IRStopReason {
    const reported = stopReason === undefined ? undefined : STOP_REASONS.get(stopReason)
    if (seen.toolCall && (reported === undefined || reported === 'end_turn')) return 'tool_use'
    if (reported) return reported
    return seen.thinking && !seen.text ? 'max_tokens' : 'end_turn'
  }

  return {
    push(chunk) {
      if (seq.done) return []
      let batch: KiroFrame[]
      let damage: KiroFrameError | undefined
      try {
        batch = frames.push(chunk)
      } catch (error) {
        if (!(error instanceof KiroFrameError)) throw error
        batch = error.frames
        damage = error
      }
      for (const frame of batch) onFrame(frame)
      if (damage) fail(502, `Kiro event stream is damaged: ${damage.message}`)
      return seq.take()
    },
    end() {
      if (seq.done) return seq.take()
      try {
        frames.end()
      } catch (error) {
        fail(502, `Kiro event stream is damaged: ${error instanceof Error ? error.message : String(error)}`)
        return seq.take()
      }
      if (!seen.frame) {
        seq.truncated()
        return seq.take()
      }
      interrupt()
      for (const call of [...calls.values()]) if (!seq.done) finishCall(call, 'was cut off before its end')
      seq.end(finalStopReason(), usage())
      return seq.take()
    },
  }
}
