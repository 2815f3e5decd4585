import {ServerResponse} from 'node:http'
import {tappedSink, type ClientSink} from '../http/client-sink.js'

/** How much of each body a log line keeps. */
export const BODY_LOG_LIMIT = 64 * 1024

/** The start of a body as text, and whether there was more of it. */
export interface BodyExcerpt {
  text: string
  truncated: boolean
}

/** What one request's client sent and received, as far as BODY_LOG_LIMIT goes. */
export interface Exchange {
  request: BodyExcerpt
  response: BodyExcerpt
}

export function excerpt(body: Buffer): BodyExcerpt {
  return {text: body.subarray(0, BODY_LOG_LIMIT).toString('utf8'), truncated: body.length > BODY_LOG_LIMIT}
}

/** Keeps the first BODY_LOG_LIMIT bytes of what passes through it, and whether more did. */
export class BodyKeeper {
  private readonly kept: Buffer[] = []
  private keptBytes = 0
  private more = false

  keep(chunk: string | Uint8Array, encoding: BufferEncoding = 'utf8'): void {
    if (this.more) return
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, encoding)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const room = BODY_LOG_LIMIT - this.keptBytes
    // A copy of the part kept only: the chunk's memory belongs to whoever wrote it.
    const part = Buffer.from(bytes.subarray(0, room))
    this.kept.push(part)
    this.keptBytes += part.length
    if (bytes.length > room) this.more = true
  }

  excerpt(): BodyExcerpt {
    return {text: Buffer.concat(this.kept).toString('utf8'), truncated: this.more}
  }
}

/**
 * A server response that keeps the start of what it sends, whichever way the answer is written (a relayed stream,
 * a whole answer, an error). The server uses it in place of Node's own only while bodies are logged, so the usual
 * path pays nothing.
 */
export class CapturingResponse extends ServerResponse {
  private readonly keeper = new BodyKeeper()

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.keep(chunk, rest[0])
    return (super.write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  }

  override end(...args: unknown[]): this {
    if (typeof args[0] !== 'function') this.keep(args[0], args[1])
    return (super.end as (...args: unknown[]) => this).apply(this, args)
  }

  /** What the client sent (`body`) and received; the answer's part is complete once the response has ended. */
  exchange(body: Buffer): Exchange {
    return {request: excerpt(body), response: this.keeper.excerpt()}
  }

  /** Calls `done` once the whole answer is written (or the client has gone), when `exchange` has all of it. */
  whenEnded(done: () => void): void {
    if (this.writableEnded || this.destroyed) done()
    else this.once('close', done)
  }

  private keep(chunk: unknown, encoding: unknown): void {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array)
      this.keeper.keep(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined)
  }
}

/** `sink`, keeping the start of what goes through it in `keeper` (for answers that are no HTTP response). */
export function keepingSink(sink: ClientSink, keeper: BodyKeeper): ClientSink {
  return tappedSink(sink, {body: (part) => keeper.keep(part)})
}
