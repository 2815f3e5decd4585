import type {WebSocket} from 'ws'
import {createSseParser, type SseParser} from '../../codecs/sse.js'
import type {ClientSink} from '../../http/client-sink.js'

/** Bytes queued on a socket past which a write waits until they are flushed. */
const HIGH_WATER_BYTES = 256 * 1024

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The `error` message of the Responses WebSocket mode: the error object under `error`, and the HTTP status the
 * same refusal would have had, which Codex reads to tell a refused request (retry the full input, give up) from a
 * broken stream.
 */
export function socketErrorMessage(status: number, body: unknown, headers: Record<string, string> = {}): string {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {type: 'server_error', message: String(body)}
  const retryAfter = headers['retry-after']
  return JSON.stringify({type: 'error', status, error, ...(retryAfter ? {headers: {'retry-after': retryAfter}} : {})})
}

/**
 * An `error` stream event as the socket sends it. In SSE the event carries `code` and `message` at the top; over
 * the socket Codex reads them from an `error` object only, and without one it ignores the event and waits for an
 * end that never comes. Both forms are kept.
 */
const ERROR_TYPE = /"type"\s*:\s*"error"/

function socketEvent(data: string): string {
  if (!ERROR_TYPE.test(data)) return data
  let event: unknown
  try {
    event = JSON.parse(data)
  } catch {
    return data
  }
  if (!isRecord(event) || event.type !== 'error' || isRecord(event.error)) return data
  const {code = null, message = 'stream error', param = null} = event
  return JSON.stringify({...event, error: {type: 'server_error', code, message, param}})
}

/**
 * The sink of one `response.create` on a WebSocket connection: each SSE event written to it goes out as one text
 * message (the event's JSON, which names its `type`), a JSON error answer as an `error` message. The connection
 * outlives the answer, so `end` closes nothing.
 */
export class SocketSink implements ClientSink {
  private opened = false
  private finished = false
  private readonly parser: SseParser

  constructor(
    private readonly socket: WebSocket,
    eventLimit?: number,
  ) {
    this.parser = createSseParser(eventLimit)
  }

  get started(): boolean {
    return this.opened
  }

  get gone(): boolean {
    return this.socket.readyState !== this.socket.OPEN
  }

  send(status: number, headers: Record<string, string>, body: string | Buffer): void {
    if (this.opened) return
    this.opened = true
    this.finished = true
    let json: unknown
    try {
      json = JSON.parse(body.toString())
    } catch {
      json = body.toString()
    }
    // A whole answer that is not an error still ends the turn the way a stream does.
    void this.message(status >= 400 ? socketErrorMessage(status, json, headers) : completed(json))
  }

  start(): void {
    this.opened = true
  }

  write(chunk: string | Uint8Array): Promise<void> | undefined {
    this.opened = true
    return this.relay(this.parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
  }

  end(chunk?: string | Uint8Array): void {
    if (chunk !== undefined) void this.write(chunk)
    void this.relay(this.parser.end())
    this.finished = true
  }

  onGone(listener: () => void): () => void {
    const onClose = () => {
      if (!this.finished) listener()
    }
    this.socket.on('close', onClose)
    return () => this.socket.off('close', onClose)
  }

  /** Sends the events; past the high-water mark, resolves once the last of them is flushed or the socket closed. */
  private relay(events: readonly {data: string}[]): Promise<void> | undefined {
    let last: Promise<void> | undefined
    for (const {data} of events) last = this.message(socketEvent(data))
    return this.socket.bufferedAmount > HIGH_WATER_BYTES ? last : undefined
  }

  private message(text: string): Promise<void> | undefined {
    if (this.gone) return undefined
    // ws calls back once the message is written, or with an error when the socket closed first.
    return new Promise((resolve) => this.socket.send(text, () => resolve()))
  }
}

function completed(response: unknown): string {
  return JSON.stringify({type: 'response.completed', response})
}
