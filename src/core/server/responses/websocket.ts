/*
 * The Responses WebSocket mode, as Codex (codex-rs/codex-api, responses_websocket.rs; core client.rs) uses it:
 *
 * - Codex tries it only when its provider has `supports_websockets = true`: `GET {base_url}/responses` with
 *   `Upgrade: websocket`, `OpenAI-Beta: responses_websockets=2026-02-06`, its usual auth header (Authorization:
 *   Bearer) and session headers (session-id, thread-id, x-client-request-id, originator). It offers
 *   permessage-deflate; a server may decline it. A refused upgrade is retried (a 404 costs ~6 s) before Codex falls
 *   back to HTTP; a 426 makes it fall back at once; a 401 goes through its auth recovery.
 * - Each request is one text message: the Responses request body flattened next to `"type": "response.create"`
 *   (serde's internally tagged enum), with `stream: true`. A newer Codex also sends `{"type":
 *   "response.processed", "response_id"}` after reading a response and expects nothing back.
 * - Prewarm: the first message carries `generate: false`. Codex reads events until `response.completed` and keeps
 *   that response's id; the first turn then names it by `previous_response_id` and sends only the input items the
 *   prewarm did not have. Every later turn does the same against the previous response: its input is this
 *   request's input minus (previous input + previous output items), with `store: false`. So the server must keep
 *   each connection's responses whether stored or not, and expand `previous_response_id` to input + output.
 * - Answers are the SSE events' JSON, one per text message (`type` inside). A turn ends for Codex at
 *   `response.completed` (or `response.incomplete`); `response.failed` and an `error` message end it with an error.
 *   Binary messages are errors, pings are answered.
 * - Errors: `{"type": "error", "status": 400, "error": {"type", "code", "message", "param"}, "headers"?}`. With a
 *   status Codex treats it as that HTTP error; `previous_response_not_found` makes it retry the full input ("Previous
 *   response was not found. Retrying the full request."); without a status it reads `error.message` as a stream
 *   error. After any failed turn Codex drops the connection and reconnects for the next one.
 */
import {STATUS_CODES, type IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import type {WebSocket, WebSocketServer} from 'ws'
import type {ProtocolCodec} from '../../codecs/types.js'
import {checkAccess} from '../access.js'
import {KEY_REFUSAL, keyMatches, presentedKey} from '../auth.js'
import type {ConnectionCap} from '../connections.js'
import type {HandlerDeps} from '../handler.js'
import {unknownType} from '../resolve-type.js'
import {parsePath, parseTarget, protocolForPath} from '../routes.js'
import type {ResponseMemory} from './memory.js'
import {GOING_AWAY, SocketSession, type SessionContext} from './socket-session.js'

export interface ResponsesSocketOptions {
  deps: HandlerDeps
  memory: ResponseMemory
  apiKey?: string
  corsOrigins: readonly string[]
  connections: ConnectionCap
  /** The largest message accepted: the server's body limit. */
  maxPayload: number
  /** How often a connection is pinged; one that has not answered the previous ping by then is cut. */
  keepaliveMs?: number
  track(work: Promise<unknown>): void
}

const DEFAULT_KEEPALIVE_MS = 30_000

/** Answers the node:http server's `upgrade` events: the Responses WebSocket mode, and refusals for the rest. */
export class ResponsesSockets {
  private wss: Promise<WebSocketServer> | undefined
  private readonly sessions = new Map<WebSocket, SocketSession>()
  private readonly alive = new WeakSet<WebSocket>()
  private keepalive: NodeJS.Timeout | undefined
  private closing = false

  constructor(private readonly options: ResponsesSocketOptions) {}

  /** The guards of an HTTP request (connections, access, route, key, type prefix), then the upgrade. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    const refusal = this.refusal(req)
    if (refusal) return refuse(socket, refusal)
    const wss = await (this.wss ??= createServer(this.options.maxPayload))
    if (socket.destroyed) return
    wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, req))
  }

  /** Closes idle connections now (1001) and busy ones once their turn is answered. */
  drain(): void {
    this.closing = true
    for (const session of this.sessions.values()) session.closeWhenIdle()
  }

  /** Closes every connection that is left (1001) and cuts those that do not finish closing promptly. */
  terminate(): void {
    this.closing = true
    clearInterval(this.keepalive)
    for (const ws of this.sessions.keys()) {
      if (ws.readyState === ws.OPEN) ws.close(GOING_AWAY, 'The server is shutting down.')
      setTimeout(() => ws.terminate(), 1000).unref()
    }
  }

  private refusal(req: IncomingMessage): Refusal | undefined {
    const {codecs} = this.options.deps
    const target = parseTarget(req.url ?? '/')
    if (!target) {
      return {codec: codecs.openai, status: 400, message: `The request target ${JSON.stringify(req.url)} is not valid.`}
    }
    const {url} = target
    const parsed = parsePath('POST', url.pathname)
    const codec = codecs[protocolForPath(url.pathname)]
    if (this.closing)
      return {codec, status: 503, message: 'The server is shutting down.', headers: {'retry-after': '1'}}
    const {connections} = this.options
    if (connections.refuses(req.socket))
      return {codec, status: 503, message: connections.refusalMessage, headers: {'retry-after': '1'}}
    const keyRequired = this.options.apiKey !== undefined
    const access = checkAccess(
      {keyRequired, corsOrigins: this.options.corsOrigins},
      req.headers,
      url,
      target.absoluteForm,
    )
    if (!access.allowed) return {codec, status: 403, message: access.message}
    const route = parsed.route
    if (route?.kind !== 'chat' || route.protocol !== 'responses') {
      return {
        codec,
        status: 404,
        message: `Unknown WebSocket route ${url.pathname}; WebSocket mode is served at /v1/responses.`,
      }
    }
    if (parsed.malformedSegment !== undefined) {
      return {
        codec,
        status: 400,
        message: `The path segment "${parsed.malformedSegment}" has malformed percent-encoding.`,
      }
    }
    if (keyRequired && !keyMatches(presentedKey(req.headers, url.searchParams), this.options.apiKey!)) {
      return {codec, status: 401, message: KEY_REFUSAL}
    }
    if (parsed.unknownPrefix !== undefined) {
      return {codec, status: 400, message: unknownType(parsed.unknownPrefix, 'path prefix').message}
    }
    return undefined
  }

  private open(ws: WebSocket, req: IncomingMessage): void {
    const {deps, memory, track} = this.options
    const url = parseTarget(req.url ?? '/')!.url
    const context: SessionContext = {
      deps,
      serverMemory: memory,
      pathname: url.pathname,
      typePrefix: parsePath('POST', url.pathname).typePrefix,
      headers: req.headers,
      track,
    }
    this.sessions.set(ws, new SocketSession(ws, context))
    this.alive.add(ws)
    ws.on('pong', () => this.alive.add(ws))
    ws.on('error', () => ws.terminate())
    ws.on('close', () => {
      this.sessions.delete(ws)
      if (this.sessions.size === 0) clearInterval(this.keepalive)
    })
    if (this.sessions.size === 1) this.startKeepalive()
  }

  /** Pings every connection; one that did not answer the last ping is gone (a dropped network sends no close). */
  private startKeepalive(): void {
    clearInterval(this.keepalive)
    this.keepalive = setInterval(() => {
      for (const ws of this.sessions.keys()) {
        if (!this.alive.has(ws)) {
          ws.terminate()
          continue
        }
        this.alive.delete(ws)
        ws.ping()
      }
    }, this.options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS).unref()
  }
}

interface Refusal {
  codec: ProtocolCodec
  status: number
  message: string
  headers?: Record<string, string>
}

/** `ws` is loaded on the first upgrade: a server whose clients never ask for WebSocket never pays for it. */
async function createServer(maxPayload: number): Promise<WebSocketServer> {
  const {WebSocketServer} = await import('ws')
  return new WebSocketServer({noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false})
}

/** A refused upgrade is a plain HTTP answer in the client's protocol, then the socket is closed. */
function refuse(socket: Duplex, {codec, status, message, headers = {}}: Refusal): void {
  const body = JSON.stringify(codec.errorBody(status, message))
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
  socket.once('finish', () => socket.destroy())
}
