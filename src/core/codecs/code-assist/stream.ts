import {createGeminiStreamDecoder} from '../gemini-stream.js'
import {createSseParser, formatSse, type SseEvent} from '../sse.js'
import type {StreamDecoder, StreamDecoderOptions} from '../types.js'
import {isObject} from '../values.js'
import {unwrapResponse} from './envelope.js'

/** Upstream bytes → client text, one string per push (one upstream read). */
export interface SseTextTransform {
  push(chunk: Uint8Array): string
  end(): string
}

/**
 * Code Assist SSE → the public Gemini SSE a Gemini client expects: each event unwrapped, `{"error":…}` events
 * passed on as they are (the public API reports mid-stream errors with the same body), and events whose JSON does
 * not parse skipped, as gemini-cli does.
 */
export function createUnwrappingSseTransform(opts: StreamDecoderOptions = {}): SseTextTransform {
  const drop = opts.onDropped ?? (() => {})
  const sse = createSseParser(opts.maxEventLength)

  function convert(events: SseEvent[]): string {
    let out = ''
    for (const event of events) {
      let value: unknown
      try {
        value = JSON.parse(event.data)
      } catch {
        drop('unparseable stream chunk')
        continue
      }
      const error = isObject(value) && value.error !== undefined
      out += formatSse(error ? event.data : JSON.stringify(unwrapResponse(value)))
    }
    return out
  }

  return {
    push: (chunk) => convert(sse.push(chunk)),
    end: () => convert(sse.end()),
  }
}

// Reuses the Gemini decoder whole by feeding it the unwrapped text, at the cost of parsing each event twice.
export function createCodeAssistStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
  const transform = createUnwrappingSseTransform(opts)
  const gemini = createGeminiStreamDecoder(opts)
  const encoder = new TextEncoder()
  return {
    push: (chunk) => gemini.push(encoder.encode(transform.push(chunk))),
    end: () => [...gemini.push(encoder.encode(transform.end())), ...gemini.end()],
  }
}
