import {streamError} from './errors.js'
import type {IRBlockKind, IRStopReason, IRStreamEvent, IRUsage} from './ir.js'

type BlockStart = IRStreamEvent & {type: 'block_start'}
type StreamError = IRStreamEvent & {type: 'error'}

// Shared bookkeeping for stream decoders: it turns "here is content of kind X" into the IR grammar
// (message_start first, contiguous block indices, one block open at a time, exactly one terminal event).
export class BlockSequencer {
  private events: IRStreamEvent[] = []
  private open: {index: number; kind: IRBlockKind} | undefined
  private next = 0
  private started = false
  done = false

  get openIndex(): number | undefined {
    return this.open?.index
  }

  start(id: string | undefined, model: string | undefined, usage?: IRUsage): void {
    if (this.started) return
    this.started = true
    this.events.push({
      type: 'message_start',
      ...(id !== undefined && {id}),
      ...(model !== undefined && {model}),
      ...(usage && {usage}),
    })
  }

  push(event: IRStreamEvent): void {
    this.events.push(event)
  }

  // Text and thinking arrive in fragments: keep appending to the open block while the kind stays the same.
  ensure(kind: 'text' | 'thinking'): number {
    return this.open?.kind === kind ? this.open.index : this.begin(kind)
  }

  begin(kind: IRBlockKind, extra: Pick<BlockStart, 'id' | 'name' | 'signature' | 'data'> = {}): number {
    this.start(undefined, undefined)
    this.close()
    const index = this.next++
    this.open = {index, kind}
    this.events.push({type: 'block_start', index, kind, ...extra})
    return index
  }

  close(): void {
    if (!this.open) return
    this.events.push({type: 'block_stop', index: this.open.index})
    this.open = undefined
  }

  end(stopReason: IRStopReason, usage: IRUsage | undefined, stopSequence?: string): void {
    if (this.done) return
    this.start(undefined, undefined)
    this.close()
    this.done = true
    this.events.push({
      type: 'message_end',
      stopReason,
      ...(stopSequence !== undefined && {stopSequence}),
      ...(usage && {usage}),
    })
  }

  fail(event: StreamError): void {
    if (this.done) return
    this.done = true
    this.events.push(event)
  }

  // An upstream that closes the connection without its terminal event has been cut off.
  truncated(): void {
    if (this.done) return
    this.close()
    this.fail(streamError(502, this.started ? 'upstream stream ended before completion' : 'upstream stream was empty'))
  }

  take(): IRStreamEvent[] {
    const events = this.events
    this.events = []
    return events
  }
}
