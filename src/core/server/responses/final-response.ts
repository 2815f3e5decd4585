import {tappedSink, type ClientSink} from '../../http/client-sink.js'
import {createSseParser} from '../../codecs/sse.js'
import {parseObject} from './items.js'

const TERMINAL = /response\.(completed|incomplete)/
const MARKERS = ['response.completed', 'response.incomplete']
/** Enough of the previous piece to find a marker or an event boundary that a piece boundary cut. */
const KEEP = 64

/**
 * Watches what goes to a Responses client for the finished response object: the body of a plain answer, or the
 * `response.completed` / `response.incomplete` event that ends a stream. Streams are only searched for the marker,
 * a native byte search, until the terminal event begins; only from there are bytes held and parsed.
 */
export class FinalResponseCapture {
  /** The last bytes of the stream before the terminal event was found, or everything from its start on. */
  private window = Buffer.alloc(0)
  private readonly held: Buffer[] = []
  private capturing = false
  private plain: string | undefined

  /** The sink that writes to `sink` and watches on the way. */
  wrap(sink: ClientSink): ClientSink {
    return tappedSink(sink, {
      body: (part, status) => {
        if (status === undefined) this.push(part)
        // A whole answer's body is a string or a Buffer (ClientSink.send).
        else if (status === 200) this.plain = (part as string | Buffer).toString('utf8')
      },
    })
  }

  /** The finished response, or undefined when the answer was an error, failed, or was cut off. */
  response(): Record<string, unknown> | undefined {
    if (this.plain !== undefined) return responseObject(parseObject(this.plain))
    if (!this.capturing) return undefined
    const parser = createSseParser(Number.MAX_SAFE_INTEGER)
    const events = [...parser.push(Buffer.concat(this.held)), ...parser.end()]
    for (let i = events.length - 1; i >= 0; i--) {
      const data = parseObject(events[i]!.data)
      if (data && TERMINAL.test(String(data.type))) return responseObject(data.response)
    }
    return undefined
  }

  private push(chunk: string | Uint8Array): void {
    const bytes =
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    if (this.capturing) {
      this.held.push(Buffer.from(bytes))
      return
    }
    let joined = bytes
    let marker = firstMarker(bytes)
    if (marker < 0) {
      // A marker cut in two by the piece boundary: the previous piece's tail with this one's head.
      const seam = Buffer.concat([this.window, bytes.subarray(0, KEEP)])
      if (firstMarker(seam) < 0) {
        this.window = Buffer.from(bytes.length >= KEEP ? bytes.subarray(bytes.length - KEEP) : seam.subarray(-KEEP))
        return
      }
      joined = Buffer.concat([this.window, bytes])
      marker = firstMarker(joined)
    }
    // The event starts at the blank line before the marker; without one in reach, the parser skips the partial line.
    const boundary = joined.lastIndexOf('\n\n', marker)
    this.held.push(Buffer.from(joined.subarray(boundary < 0 ? 0 : boundary + 2)))
    this.window = Buffer.alloc(0)
    this.capturing = true
  }
}

function firstMarker(bytes: Buffer): number {
  const found = MARKERS.map((name) => bytes.indexOf(name)).filter((at) => at >= 0)
  return found.length === 0 ? -1 : Math.min(...found)
}

function responseObject(value: unknown): Record<string, unknown> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const response = value as Record<string, unknown>
  return typeof response.id === 'string' && Array.isArray(response.output) ? response : undefined
}
