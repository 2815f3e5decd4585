import type {ServerResponse} from 'node:http'
import type {ProtocolCodec} from '../codecs/types.js'

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers})
  res.end(text)
}

/** An error in the shape the client's SDK parses, with the right status (never a 200, never a stack). */
export function sendError(
  res: ServerResponse,
  codec: ProtocolCodec,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end()
    return
  }
  sendJson(res, status, codec.errorBody(status, message), headers)
}
