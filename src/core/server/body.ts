import type {IncomingMessage} from 'node:http'
import {HttpError} from './http-error.js'

export interface BodyLimits {
  /** Largest body of one request. */
  limitBytes: number
  /** Time a client has to send its whole body once its headers are in. */
  timeoutMs: number
  /** Bytes all requests may hold at once, counted from the first byte received to the end of the request. */
  totalBytes: number
}

export interface ReceivedBody {
  body: Buffer
  /** Gives the bytes back to the shared budget; call once the request no longer needs them. */
  release(): void
}

/**
 * Reads request bodies into memory, each bounded in size and time, and all together in bytes, so that slow or
 * unfinished bodies cannot hold the process's memory or connections for ever.
 */
export class BodyReader {
  private held = 0

  constructor(private readonly limits: BodyLimits) {}

  /** Bytes held by bodies being received or still in use. */
  get heldBytes(): number {
    return this.held
  }

  read(req: IncomingMessage): Promise<ReceivedBody> {
    const {limitBytes, timeoutMs, totalBytes} = this.limits
    let reserved = 0
    const release = () => {
      this.held -= reserved
      reserved = 0
    }
    /** Grows this request's share to `bytes`, if the budget has room. */
    const reserve = (bytes: number): boolean => {
      if (this.held - reserved + bytes > totalBytes) return false
      this.held += bytes - reserved
      reserved = bytes
      return true
    }
    const tooLarge = () => new HttpError(413, `The request body is larger than the limit of ${limitBytes} bytes.`)
    const busy = () =>
      new HttpError(503, 'The server is receiving too many request bodies at once. Try again in a moment.', {
        'retry-after': '1',
      })
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limitBytes) {
      // The body is read and dropped, so the client gets its answer on a connection it can reuse.
      req.resume()
      return Promise.reject(tooLarge())
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      const detach = () => {
        clearTimeout(timer)
        req.off('data', onData)
        req.off('end', onEnd)
        req.off('error', onError)
        req.off('close', onClose)
      }
      const fail = (error: unknown) => {
        detach()
        release()
        req.resume()
        reject(error)
      }
      // Bytes are counted as they arrive, not as declared: headers alone, however large they claim the body is,
      // cannot take the budget from other clients.
      const onData = (chunk: Buffer) => {
        size += chunk.length
        if (size > limitBytes) fail(tooLarge())
        else if (!reserve(size)) fail(busy())
        else chunks.push(chunk)
      }
      const onEnd = () => {
        detach()
        resolve({body: Buffer.concat(chunks, size), release})
      }
      const onError = (error: Error) => fail(error)
      // A client that leaves mid-body gives its bytes back at once, whether or not an error is emitted for it.
      const onClose = () => fail(new Error('The client closed the connection before sending the whole body.'))
      // A body trickled a byte at a time would otherwise keep its connection and memory for as long as it likes.
      const timer = setTimeout(
        () =>
          fail(
            new HttpError(408, `The request body did not arrive within ${timeoutMs / 1000} s.`, {connection: 'close'}),
          ),
        timeoutMs,
      )
      req.on('data', onData)
      req.on('end', onEnd)
      req.on('error', onError)
      req.on('close', onClose)
    })
  }
}
