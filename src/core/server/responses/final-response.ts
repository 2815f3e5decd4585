import type {ClientSink} from '../../http/client-sink.js'
import {createSseParser} from '../../codecs/sse.js'
import {parseObject} from './items.js'

const TERMINAL = /response\.(completed|incomplete)/
/** Enough of the previous piece to find a marker or an event boundary that a piece boundary cut. */
const KEEP = 64

/**
 * Watches what goes to a Responses client for the finished response object: the body of a plain answer, or the
 * `response.completed` / `response.incomplete` event that ends a stream. Streams are only searched for the marker,
 * which is native string search, until the terminal event begins; only from there is text held and parsed.
 */
export class FinalResponseCapture {
  private readonly decoder = new TextDecoder()
  private window = ''
  private capturing = false
  private plain: string | undefined

  /** The sink that writes to `sink` and watches on the way. */
  wrap(sink: ClientSink): ClientSink {
    return {
      get started() {
        return sink.started
      },
      get gone() {
        return sink.gone
      },
      send: (status, headers, body) => {
        if (status === 200) this.plain = typeof body === 'string' ? body : body.toString('utf8')
        sink.send(status, headers, body)
      },
      start: (status, headers) => sink.start(status, headers),
      write: (chunk) => {
        this.push(chunk)
        return sink.write(chunk)
      },
      end: (chunk) => {
        if (chunk !== undefined) this.push(chunk)
        sink.end(chunk)
      },
      onGone: (listener) => sink.onGone(listener),
    }
  }

  /** The finished response, or undefined when the answer was an error, failed, or was cut off. */
  response(): Record<string, unknown> | undefined {
    if (this.plain !== undefined) return responseObject(parseObject(this.plain))
    if (!this.capturing) return undefined
    const parser = createSseParser(Number.MAX_SAFE_INTEGER)
    const events = [...parser.push(Buffer.from(this.window)), ...parser.end()]
    for (let i = events.length - 1; i >= 0; i--) {
      const data = parseObject(events[i]!.data)
      if (data && TERMINAL.test(String(data.type))) return responseObject(data.response)
    }
    return undefined
  }

  private push(chunk: string | Uint8Array): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, {stream: true})
    if (this.capturing) {
      this.window += text
      return
    }
    const joined = this.window + text
    const marker = joined.search(TERMINAL)
    if (marker < 0) {
      this.window = joined.slice(-KEEP)
      return
    }
    const boundary = joined.lastIndexOf('\n\n', marker)
    this.window = boundary < 0 ? joined : joined.slice(boundary + 2)
    this.capturing = true
  }
}

function responseObject(value: unknown): Record<string, unknown> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const response = value as Record<string, unknown>
  return typeof response.id === 'string' && Array.isArray(response.output) ? response : undefined
}
