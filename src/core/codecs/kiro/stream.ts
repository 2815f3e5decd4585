// Kiro event-stream bytes → IR stream events (upstreams.md §7.4). Kiro has no terminal event: the answer is
// complete when the bytes end on a frame boundary, and the proxy's transport must report a connection that
// broke off, since that can end on a boundary too.
import {streamError} from '../errors.js'
import {newId} from '../ids.js'
import type {IRStreamEvent, IRUsage} from '../ir.js'
import {BlockSequencer} from '../stream-state.js'
import type {DropHandler, StreamDecoder, StreamDecoderOptions} from '../types.js'
import {asNumber, asObject, asString, isObject, parseJsonObject, type JsonObject} from '../values.js'
import {createFrameReader, KiroFrameError, type KiroFrame} from './eventstream.js'
import {createTextSplitter, type TextPiece} from './text.js'
import {kiroStopReason, kiroUsage} from './usage.js'

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

export function createKiroStreamDecoder(opts: KiroStreamOptions = {}): StreamDecoder {
  const frames = createFrameReader(opts.maxEventLength)
  const answer = new KiroAnswer(opts)
  return {
    push(chunk) {
      if (answer.done) return []
      let batch: KiroFrame[]
      let damage: KiroFrameError | undefined
      try {
        batch = frames.push(chunk)
      } catch (error) {
        if (!(error instanceof KiroFrameError)) throw error
        batch = error.frames
        damage = error
      }
      for (const frame of batch) answer.onFrame(frame)
      if (damage) answer.fail(502, `Kiro event stream is damaged: ${damage.message}`)
      return answer.take()
    },
    end() {
      if (answer.done) return answer.take()
      try {
        frames.end()
      } catch (error) {
        answer.fail(502, `Kiro event stream is damaged: ${error instanceof Error ? error.message : String(error)}`)
        return answer.take()
      }
      answer.finish()
      return answer.take()
    },
  }
}

// One answer as its frames arrive: each event type has its handler, and the IR events pile up in the
// sequencer until taken.
//
// Tool calls are emitted whole, once their `stop` arrives: Kiro may interleave fragments of several calls,
// and a call whose joined arguments are not a JSON object must fail before any of it reaches the client.
class KiroAnswer {
  private readonly seq = new BlockSequencer()
  private readonly splitter = createTextSplitter()
  private readonly id = newId('msg_')
  private readonly drop: DropHandler
  private readonly clientNames: Map<string, string>
  private readonly calls = new Map<string, PendingCall>()
  private readonly finished = new Set<string>()
  private readonly seen = {frame: false, text: false, thinking: false, toolCall: false}
  private lastCall: PendingCall | undefined
  private lastContent: string | undefined
  private signed = false
  private outputChars = 0
  private contextPercent: number | undefined
  private tokenUsage: JsonObject | undefined
  private stopReason: string | undefined

  constructor(private readonly opts: KiroStreamOptions) {
    this.drop = opts.onDropped ?? (() => {})
    this.clientNames = new Map(Object.entries(opts.toolNameMap ?? {}))
  }

  get done(): boolean {
    return this.seq.done
  }

  take(): IRStreamEvent[] {
    return this.seq.take()
  }

  fail(status: number, message: string): void {
    this.seq.fail(streamError(status, message))
  }

  onFrame(frame: KiroFrame): void {
    if (this.seq.done) return
    this.seen.frame = true
    if (frame.messageType === 'exception') {
      const type = frame.exceptionType ?? 'exception'
      return this.fail(exceptionStatus(type), `Kiro ${type}: ${describe(frame.payload)}`)
    }
    if (frame.messageType === 'error') {
      const code = frame.errorCode === undefined ? '' : ` ${frame.errorCode}`
      return this.fail(502, `Kiro error${code}: ${frame.errorMessage ?? describe(frame.payload)}`)
    }
    const {type, payload} = unwrap(frame)
    // Usage that comes before the answer opens it, so that message_start can show the input tokens.
    if (type !== 'contextUsageEvent' && type !== 'metadataEvent') this.start()
    switch (type) {
      case 'assistantResponseEvent':
        return this.onContent(asString(payload.content))
      case 'toolUseEvent':
        return this.onToolUse(payload)
      case 'reasoningContentEvent':
        return this.onReasoning(payload)
      case 'contextUsageEvent':
        this.contextPercent = asNumber(payload.contextUsagePercentage) ?? this.contextPercent
        return
      case 'metadataEvent':
        if (isObject(payload.tokenUsage)) this.tokenUsage = payload.tokenUsage
        this.stopReason = asString(payload.stopReason) ?? this.stopReason
        return
      case 'invalidStateEvent': {
        // Its reasons (e.g. an invalid task plan) concern the request, so another account would fare no better.
        const reason = asString(payload.reason)
        return this.fail(400, `Kiro reported an invalid state${reason ? ` (${reason})` : ''}: ${describe(payload)}`)
      }
      default:
        if (type === undefined || !IGNORED_EVENTS.has(type)) this.drop(`event.${type ?? 'untyped'}`)
    }
  }

  private start(): void {
    const reported = this.tokenUsage !== undefined || this.contextPercent !== undefined
    this.seq.start(this.id, this.opts.model, reported ? {...this.usage(), outputTokens: 0} : undefined)
  }

  private usage(): IRUsage {
    return kiroUsage({
      model: this.opts.model,
      tokenUsage: this.tokenUsage,
      outputChars: this.outputChars,
      contextPercent: this.contextPercent,
    })
  }

  // The bytes ended on a frame boundary: what is held back is released, and calls still open fail.
  finish(): void {
    if (!this.seen.frame) return this.seq.truncated()
    this.start()
    this.interrupt()
    for (const call of [...this.calls.values()]) if (!this.seq.done) this.finishCall(call, 'was cut off before its end')
    this.seq.end(kiroStopReason(this.stopReason, this.seen), this.usage())
  }

  // Kiro sometimes sends a content event twice in a row (AIClient-2-API drops the copy).
  private onContent(content: string | undefined): void {
    if (!content) return
    if (content === this.lastContent) return this.drop('duplicate content event')
    this.lastContent = content
    this.emit(this.splitter.push(content))
  }

  private emit(pieces: TextPiece[]): void {
    for (const piece of pieces) {
      if (piece.type === 'call') {
        this.emitCall(newId('toolu_'), piece.name, piece.input)
        continue
      }
      if (piece.type === 'thinking') {
        this.seen.thinking = true
        this.seq.push({type: 'thinking_delta', index: this.thinkingBlock(), text: piece.text})
      } else {
        this.seen.text = true
        this.seq.push({type: 'text_delta', index: this.seq.ensure('text'), text: piece.text})
      }
      this.outputChars += piece.text.length
    }
  }

  // Text, tool calls and reasoning are separate blocks; whatever text is held back comes first.
  private interrupt(): void {
    this.emit(this.splitter.flush())
    this.lastContent = undefined
  }

  // A signature ends its thinking block: later reasoning opens a new one.
  private thinkingBlock(): number {
    const index = this.signed ? this.seq.begin('thinking') : this.seq.ensure('thinking')
    this.signed = false
    return index
  }

  private onReasoning(payload: JsonObject): void {
    this.interrupt()
    const redacted = asString(payload.redactedContent)
    if (redacted) {
      this.seen.thinking = true
      this.seq.begin('redacted_thinking', {data: redacted})
      this.seq.close()
    }
    const text = asString(payload.text)
    if (text) {
      this.seen.thinking = true
      this.outputChars += text.length
      this.seq.push({type: 'thinking_delta', index: this.thinkingBlock(), text})
    }
    const signature = asString(payload.signature)
    if (signature) {
      this.seq.push({type: 'signature_delta', index: this.thinkingBlock(), signature})
      this.signed = true
    }
  }

  // Fragments share a toolUseId; continuations may lack the name or even the id, and `input` may come as an
  // object instead of JSON text (CLIProxyAPIPlus).
  private onToolUse(payload: JsonObject): void {
    this.interrupt()
    const toolUseId = asString(payload.toolUseId) ?? this.lastCall?.id
    if (toolUseId === undefined) return this.drop('toolUseEvent without toolUseId')
    if (this.finished.has(toolUseId)) return this.drop('toolUseEvent after its stop')
    let call = this.calls.get(toolUseId)
    if (!call) {
      call = {id: toolUseId, name: '', input: ''}
      this.calls.set(toolUseId, call)
    }
    call.name ||= asString(payload.name) ?? ''
    if (typeof payload.input === 'string') call.input += payload.input
    else if (isObject(payload.input)) call.input = JSON.stringify(payload.input)
    this.lastCall = call
    if (payload.stop === true) this.finishCall(call, 'has arguments that are not a JSON object')
  }

  private finishCall(call: PendingCall, problem: string): void {
    this.calls.delete(call.id)
    this.finished.add(call.id)
    if (this.lastCall === call) this.lastCall = undefined
    const input = parseJsonObject(call.input)
    if (input === undefined) return this.fail(502, `Kiro tool call ${call.id} ${problem}`)
    if (call.name === '') return this.fail(502, `Kiro tool call ${call.id} has no name`)
    this.emitCall(call.id, call.name, input)
  }

  private emitCall(callId: string, name: string, input: JsonObject): void {
    this.seen.toolCall = true
    const json = JSON.stringify(input)
    this.outputChars += name.length + json.length
    const index = this.seq.begin('tool_call', {id: callId, name: this.clientNames.get(name) ?? name})
    this.seq.push({type: 'tool_input_delta', index, json})
    this.seq.close()
  }
}
