import type {ServerResponse} from 'node:http'
import type {ProtocolCodec} from '../codecs/types.js'

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers})
  res.end(text)
}

/** An error in the shape the client's SDK parses, with the right status (never a 200, never a stack). */
export function sendError(res: ServerResponse, codec: ProtocolCodec, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end()
    return
  }
  sendJson(res, status, codec.errorBody(status, message), headers)
}

/**
 * A header value made from text we do not control (an instance's name): printable ASCII other than `%` goes as
 * is, everything else as percent-encoded UTF-8, so any name can be sent (Node refuses characters outside
 * Latin-1) and `decodeURIComponent` gives it back.
 */
export function headerValue(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => Array.from(Buffer.from(run, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''))
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
}

/** Writes with backpressure: resolves when the socket can take more, or when the client has gone. */
export function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> | undefined {
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
