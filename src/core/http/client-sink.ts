import type {ServerResponse} from 'node:http'

/**
 * Where an answer for the client goes: the proxy writes through this and knows nothing of `node:http`, so its
 * relays can be driven by an in-memory sink as well as by a server response.
 */
export interface ClientSink {
  /** The status line went out: from here on a failure can only end the answer. */
  readonly started: boolean
  /** The client's connection is gone; nothing written reaches it. */
  readonly gone: boolean
  /** A whole answer at once (its length is set here). */
  send(status: number, headers: Record<string, string>, body: string | Buffer): void
  /** Opens an answer sent in pieces; once it is open, further calls do nothing. */
  start(status: number, headers: Record<string, string>): void
  /** One piece, with backpressure: resolves when the client can take more, or when it has gone. */
  write(chunk: string | Uint8Array): Promise<void> | undefined
  end(chunk?: string | Uint8Array): void
  /** Calls `listener` if the client hangs up before the answer is complete; returns what stops listening. */
  onGone(listener: () => void): () => void
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
}

/**
 * A header value made from text we do not control (an instance's name): printable ASCII other than `%` goes as
 * is, everything else as percent-encoded UTF-8, so any name can be sent (Node refuses characters outside
 * Latin-1) and `decodeURIComponent` gives it back.
 */
export function headerValue(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) =>
    Array.from(Buffer.from(run, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  )
}

/** The sink over a `node:http` response. */
export function responseSink(res: ServerResponse): ClientSink {
  return {
    get started() {
      return res.headersSent
    },
    get gone() {
      return res.destroyed
    },
    send(status, headers, body) {
      res.writeHead(status, {'content-length': String(Buffer.byteLength(body)), ...headers})
      res.end(body)
    },
    start(status, headers) {
      if (!res.headersSent) res.writeHead(status, headers)
    },
    write: (chunk) => write(res, chunk),
    end: (chunk) => (chunk === undefined ? res.end() : res.end(chunk)),
    onGone(listener) {
      const onClose = () => {
        if (!res.writableFinished) listener()
      }
      res.on('close', onClose)
      return () => res.off('close', onClose)
    },
  }
}

/** Writes with backpressure: resolves when the socket can take more, or when the client has gone. */
function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> | undefined {
  if (res.write(chunk) || res.destroyed) return undefined
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/** What a watcher of an answer (its timing, a copy of it) is told as the answer leaves through a sink. */
export interface SinkTap {
  /** The status line is about to leave: a whole answer (`send`) or the start of a streamed one. */
  head?(status: number): void
  /** A part of the body is about to leave: a whole answer's body, or a piece of a streamed one. */
  body?(part: string | Uint8Array, status?: number): void
}

/** `sink` as it is, with `tap` told of what passes through it before it goes on. */
export function tappedSink(sink: ClientSink, tap: SinkTap): ClientSink {
  return {
    get started() {
      return sink.started
    },
    get gone() {
      return sink.gone
    },
    send(status, headers, body) {
      tap.head?.(status)
      tap.body?.(body, status)
      sink.send(status, headers, body)
    },
    start(status, headers) {
      tap.head?.(status)
      sink.start(status, headers)
    },
    write(chunk) {
      tap.body?.(chunk)
      return sink.write(chunk)
    },
    end(chunk) {
      if (chunk !== undefined) tap.body?.(chunk)
      sink.end(chunk)
    },
    onGone: (listener) => sink.onGone(listener),
  }
}
