// The HTTP plumbing shared by the fake OAuth servers: a listener on 127.0.0.1:0 that records every request
// (form or JSON body parsed) and answers with whatever the fake's handler scripts.
import {createHash} from 'node:crypto'
import {createServer, type IncomingHttpHeaders} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface RecordedOAuthRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: IncomingHttpHeaders
  /** Form fields or the JSON object sent; {} when neither */
  body: Record<string, any> // any: tests poke at arbitrary wire fields
  rawBody: string
}

export interface ScriptedReply {
  status: number
  body?: unknown
  headers?: Record<string, string>
  /** Wait this long before answering (to overlap concurrent refreshes) */
  delayMs?: number
}

export interface FakeOAuthServer {
  /** Origin, e.g. http://127.0.0.1:PORT */
  readonly url: string
  readonly requests: RecordedOAuthRequest[]
  /** Requests to one path */
  calls(path: string): RecordedOAuthRequest[]
  close(): Promise<void>
}

export type Handler = (req: RecordedOAuthRequest) => ScriptedReply | Promise<ScriptedReply>

export async function startFakeOAuthServer(handler: Handler): Promise<FakeOAuthServer> {
  const requests: RecordedOAuthRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url ?? '/', 'http://fake')
      const record: RecordedOAuthRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: parseBody(rawBody, req.headers['content-type']),
        rawBody,
      }
      requests.push(record)
      let reply: ScriptedReply
      try {
        reply = await handler(record)
      } catch (error) {
        reply = {status: 500, body: {error: 'fake_error', error_description: (error as Error).message}}
      }
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs))
      const text =
        reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
      res.writeHead(reply.status, {'content-type': 'application/json', ...reply.headers})
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    requests,
    calls: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function parseBody(raw: string, contentType: string | undefined): Record<string, any> {
  if (raw === '') return {}
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw))
  try {
    const parsed = JSON.parse(raw)
    return parsed && typeof parsed === 'object' ? parsed : {}
  } catch {
    return {}
  }
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): ScriptedReply => ({
  status,
  body,
  headers,
})

export const oauthError = (status: number, error: string, description?: string): ScriptedReply =>
  json(status, description === undefined ? {error} : {error, error_description: description})

/** RFC 7636 S256: does the verifier hash to the challenge? */
export function pkceMatches(verifier: unknown, challenge: string | null | undefined): boolean {
  return (
    typeof verifier === 'string' &&
    typeof challenge === 'string' &&
    createHash('sha256').update(verifier).digest('base64url') === challenge
  )
}

/** Scripted answers for one endpoint: consumed in order before the fake's default behaviour applies. */
export class ReplyQueue<T> {
  private readonly items: T[] = []

  push(...items: T[]): void {
    this.items.push(...items)
  }

  next(): T | undefined {
    return this.items.shift()
  }
}

/** Counter-based ids, so tests can predict and tell apart what a fake issued. */
export function idMaker(prefix: string): () => string {
  let n = 0
  return () => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`
}
