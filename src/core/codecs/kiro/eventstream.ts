// AWS event-stream framing of Kiro answers (upstreams.md §7.3). Frames are cut out of a byte buffer by their
// length prefix and decoded whole, so a character split across reads stays intact and both CRCs are checked
// (by @smithy/eventstream-codec) before anything in a frame is believed.
import {EventStreamCodec, type MessageHeaders} from '@smithy/eventstream-codec'
import {fromUtf8, toUtf8} from '@smithy/util-utf8'

// Prelude (8) + prelude CRC (4) + message CRC (4): a frame without headers or payload.
const MIN_FRAME_LENGTH = 16
// CLIProxyAPIPlus's cap; a bigger length is far more likely a damaged prelude than a real event.
export const MAX_FRAME_LENGTH = 10 * 1024 * 1024

const codec = new EventStreamCodec(toUtf8, fromUtf8)

export type KiroMessageType = 'event' | 'exception' | 'error'

export interface KiroFrame {
  messageType: KiroMessageType
  eventType?: string
  exceptionType?: string
  // Parsed JSON, or null without a payload. An exception or error payload that is not JSON is kept as text.
  payload: unknown
  // `error` messages carry these headers instead of a payload.
  errorCode?: string
  errorMessage?: string
}

// The byte stream cannot be trusted any more: a bad length, a CRC mismatch, an unknown message type, or a
// stream that stopped inside a frame. `frames` holds what the same push() decoded before the damage.
export class KiroFrameError extends Error {
  override name = 'KiroFrameError'
  readonly code = 'kiro_frame_error'

  constructor(
    message: string,
    readonly frames: KiroFrame[] = [],
  ) {
    super(message)
  }
}

export interface FrameReader {
  // Throws KiroFrameError; the reader is unusable afterwards.
  push(chunk: Uint8Array): KiroFrame[]
  // Throws KiroFrameError when bytes of an incomplete frame are left.
  end(): void
}

// `maxFrameLength` may only lower the cap: a frame above MAX_FRAME_LENGTH is damage, whatever the caller allows.
export function createFrameReader(maxFrameLength = MAX_FRAME_LENGTH): FrameReader {
  const maxLength = Math.min(maxFrameLength, MAX_FRAME_LENGTH)
  // Unconsumed reads from `head` on. Bytes are copied only when a frame spans reads, and then once.
  let pending: Uint8Array[] = []
  let head = 0
  let buffered = 0
  let frameLength: number | undefined

  function take(length: number): Uint8Array {
    buffered -= length
    const first = pending[head]
    if (first && first.length >= length) {
      consume(first, length)
      return first.subarray(0, length)
    }
    const out = new Uint8Array(length)
    for (let filled = 0; filled < length;) {
      const chunk = pending[head]
      if (!chunk) throw new Error('frame reader lost count of its bytes')
      const used = Math.min(chunk.length, length - filled)
      out.set(chunk.subarray(0, used), filled)
      filled += used
      consume(chunk, used)
    }
    return out
  }

  function consume(chunk: Uint8Array, used: number): void {
    if (used < chunk.length) {
      pending[head] = chunk.subarray(used)
      return
    }
    head++
    // Compacting only once half the list is consumed keeps a long run of tiny reads linear.
    if (head * 2 >= pending.length) {
      pending = pending.slice(head)
      head = 0
    }
  }

  function peekLength(): number {
    const prefix = new Uint8Array(4)
    let filled = 0
    for (let i = head; filled < 4; i++) {
      const chunk = pending[i]
      if (!chunk) break
      const used = Math.min(chunk.length, 4 - filled)
      prefix.set(chunk.subarray(0, used), filled)
      filled += used
    }
    return new DataView(prefix.buffer).getUint32(0)
  }

  return {
    push(chunk) {
      const frames: KiroFrame[] = []
      if (chunk.length > 0) {
        pending.push(chunk)
        buffered += chunk.length
      }
      try {
        for (;;) {
          if (frameLength === undefined) {
            if (buffered < 4) break
            frameLength = peekLength()
            if (frameLength < MIN_FRAME_LENGTH || frameLength > maxLength) {
              const bounds = `${MIN_FRAME_LENGTH}–${maxLength}`
              throw new KiroFrameError(`frame length ${frameLength} is outside ${bounds}`)
            }
          }
          if (buffered < frameLength) break
          const bytes = take(frameLength)
          frameLength = undefined
          frames.push(decodeFrame(bytes))
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        throw new KiroFrameError(message, frames)
      }
      return frames
    },
    end() {
      if (buffered > 0) throw new KiroFrameError(`stream ended inside a frame (${buffered} bytes left)`)
    },
  }
}

// Exactly one complete frame; the codec checks the length and both CRCs before the headers are parsed.
function decodeFrame(bytes: Uint8Array): KiroFrame {
  const {headers, body} = codec.decode(bytes)
  const messageType = stringHeader(headers, ':message-type')
  if (messageType !== 'event' && messageType !== 'exception' && messageType !== 'error') {
    throw new KiroFrameError(`unknown message type ${String(messageType)}`)
  }
  const frame: KiroFrame = {messageType, payload: decodePayload(body, messageType)}
  const fields = [
    ['eventType', ':event-type'],
    ['exceptionType', ':exception-type'],
    ['errorCode', ':error-code'],
    ['errorMessage', ':error-message'],
  ] as const
  for (const [key, name] of fields) {
    const value = stringHeader(headers, name)
    if (value !== undefined) frame[key] = value
  }
  return frame
}

function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const header = headers[name]
  return header?.type === 'string' ? header.value : undefined
}

// An event without JSON is damage (its CRC matched, so the upstream itself sent garbage); an exception's
// text is still worth showing.
function decodePayload(body: Uint8Array, messageType: KiroMessageType): unknown {
  if (body.length === 0) return null
  const text = toUtf8(body)
  try {
    return JSON.parse(text)
  } catch {
    if (messageType === 'event') throw new KiroFrameError('event payload is not JSON')
    return text
  }
}
