import type {IncomingHttpHeaders} from 'node:http'
import type {RawData, WebSocket} from 'ws'
import {newId} from '../../codecs/ids.js'
import {errorMessage} from '../../errors.js'
import {HttpStatusError} from '../../http-status-error.js'
import type {ProviderType} from '../../pools/types.js'
import type {RequestRecord} from '../../proxy/types.js'
import {redact} from '../../secrets.js'
import {BodyKeeper, excerpt, keepingSink} from '../../request-log/capture.js'
import {requestType, type HandlerDeps} from '../handler.js'
import {ConnectionMemory} from './connection-memory.js'
import type {ResponseMemory} from './memory.js'
import {inputItems} from './items.js'
import {previousNotFound, serveResponses} from './serve.js'
import {SocketSink, socketErrorMessage} from './socket-sink.js'

/** Messages a connection may have waiting behind the one being answered; past it they are refused. */
export const MAX_QUEUED_MESSAGES = 8

export const GOING_AWAY = 1001
const INTERNAL_ERROR = 1011

/** What every turn of one connection shares: the upgrade request's path, type prefix and headers. */
export interface SessionContext {
  deps: HandlerDeps
  serverMemory: ResponseMemory
  pathname: string
  typePrefix?: ProviderType
  headers: IncomingHttpHeaders
  /** Joins a turn to the server's running work, so that a graceful close waits for it. */
  track(work: Promise<unknown>): void
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * One WebSocket connection in the Responses WebSocket mode: its messages are answered one at a time, in order,
 * each `response.create` through the same entry point as `POST /v1/responses`.
 */
export class SocketSession {
  private readonly memory: ConnectionMemory
  private queue: Promise<void> = Promise.resolve()
  private waiting = 0
  private running = false
  private closing = false

  constructor(
    private readonly socket: WebSocket,
    private readonly context: SessionContext,
  ) {
    this.memory = new ConnectionMemory(context.serverMemory)
    socket.on('message', (data, isBinary) => this.receive(data, isBinary))
  }

  /** Closes the connection as the server goes away (1001), once the message being answered is. */
  closeWhenIdle(): void {
    this.closing = true
    if (!this.running && this.waiting === 0) this.socket.close(GOING_AWAY, 'The server is shutting down.')
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closing) return
    if (this.waiting >= MAX_QUEUED_MESSAGES) {
      this.refuse(429, `Too many messages are waiting on this connection (limit ${MAX_QUEUED_MESSAGES}).`)
      return
    }
    this.waiting++
    const work = this.queue.then(async () => {
      this.waiting--
      this.running = true
      try {
        if (this.socket.readyState === this.socket.OPEN) await this.answer(data, isBinary)
      } finally {
        this.running = false
        if (this.closing) this.closeWhenIdle()
      }
    })
    // Answering failed so badly that not even an error message went out: the connection cannot go on.
    this.queue = work.catch(() => this.socket.close(INTERNAL_ERROR, 'Internal error.'))
    this.context.track(this.queue)
  }

  private async answer(data: RawData, isBinary: boolean): Promise<void> {
    const message = parseMessage(data, isBinary)
    if (typeof message === 'string') return this.refuse(400, message)
    // Codex acknowledges a response it has read; nothing is due in return.
    if (message.type === 'response.processed') return
    if (message.type !== 'response.create') {
      return this.refuse(
        400,
        `Unknown message type ${JSON.stringify(message.type)}. This connection accepts "response.create".`,
      )
    }
    const {type: _type, generate, ...json} = message
    try {
      if (generate === false) return this.context.deps.onRecord?.(this.prewarm(json))
      await this.turn(json)
    } catch (error) {
      if (error instanceof HttpStatusError) this.refuse(error.status, error.message, error.headers)
      else this.refuse(500, redact(`Internal error: ${errorMessage(error)}`))
    }
  }

  /** A turn: the message's body (streamed, whatever it said) through the pool, its events back as messages. */
  private async turn(json: Record<string, unknown>): Promise<void> {
    const {deps, pathname, typePrefix, headers} = this.context
    const body = {...json, stream: true}
    const bytes = Buffer.from(JSON.stringify(body))
    const socketSink = new SocketSink(this.socket, deps.proxy.streamEventLimitBytes)
    // The events as they go into the socket sink (SSE), kept only while bodies are logged.
    const kept = deps.logBodies ? new BodyKeeper() : undefined
    const record = await serveResponses(
      deps,
      {json: body, body: bytes, pathname, typePrefix, headers},
      kept ? keepingSink(socketSink, kept) : socketSink,
      this.memory.forRequest(json.store !== false),
      true,
    )
    deps.onRecord?.(record, kept && {request: excerpt(bytes), response: kept.excerpt()})
  }

  /**
   * `generate: false` (Codex's prewarm): no model is asked. The answer is a response with no output, kept like any
   * other, so that the first turn can name it by `previous_response_id` and send only what is new.
   */
  private prewarm(json: Record<string, unknown>): RequestRecord {
    const {deps, pathname, typePrefix, headers} = this.context
    const started = deps.now()
    const model = typeof json.model === 'string' ? json.model : ''
    const {type} = requestType(deps, {typePrefix, headers}, model)
    // In the log and the statistics like any request, with no instance and no attempt.
    const record = {
      time: started,
      route: pathname,
      protocol: 'responses' as const,
      type,
      instance: null,
      model,
      stream: true,
    }
    const previous = this.previous(json.previous_response_id)
    if (previous === undefined) {
      this.previousNotFound(json.previous_response_id)
      const error = `previous response ${String(json.previous_response_id)} not found`
      return {...record, status: 400, ms: deps.now() - started, attempts: 0, error}
    }
    const input = [...previous, ...inputItems(json.input)]
    const id = newId('resp_')
    const response = {
      id,
      object: 'response',
      created_at: Math.floor(deps.now() / 1000),
      status: 'completed',
      model,
      output: [],
      previous_response_id: json.previous_response_id ?? null,
      store: json.store !== false,
      usage: {
        input_tokens: 0,
        input_tokens_details: {cached_tokens: 0},
        output_tokens: 0,
        output_tokens_details: {reasoning_tokens: 0},
        total_tokens: 0,
      },
    }
    this.memory.forRequest(json.store !== false).put({id, input, output: [], response, type, upstreamStored: false})
    this.send({type: 'response.created', sequence_number: 0, response: {...response, status: 'in_progress'}})
    this.send({type: 'response.completed', sequence_number: 1, response})
    return {...record, status: 200, ms: deps.now() - started, attempts: 0}
  }

  /** The conversation a `previous_response_id` continues (its input and its output); undefined when unknown. */
  private previous(id: unknown): unknown[] | undefined {
    if (id === undefined || id === null) return []
    const stored = typeof id === 'string' ? this.memory.get(id) : undefined
    return stored && [...stored.input, ...stored.output]
  }

  /** The refusal Codex answers by sending the whole conversation again. */
  private previousNotFound(id: unknown): void {
    this.sendText(socketErrorMessage(400, previousNotFound(String(id))))
  }

  private refuse(status: number, message: string, headers: Record<string, string> = {}): void {
    this.sendText(socketErrorMessage(status, this.context.deps.codecs.responses.errorBody(status, message), headers))
  }

  private send(event: Record<string, unknown>): void {
    this.sendText(JSON.stringify(event))
  }

  private sendText(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text)
  }
}

/** A message as an object with a `type`, or why it is not one. */
function parseMessage(data: RawData, isBinary: boolean): Record<string, unknown> | string {
  if (isBinary) return 'Binary messages are not accepted; send each request as a JSON text message.'
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
  const text = bytes.toString()
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return 'The message is not valid JSON.'
  }
  if (!isRecord(message)) return 'The message must be a JSON object.'
  if (typeof message.type !== 'string') return 'The message has no "type"; send {"type": "response.create", ...}.'
  return message
}
