import {StringDecoder} from 'node:string_decoder'

export interface SseEvent {
  event?: string
  data: string
}

export interface SseParser {
  push(chunk: Uint8Array): SseEvent[]
  end(): SseEvent[]
}

const LINE_BREAK = /\r\n|\r|\n/g

/** Longest event a parser holds by default, in characters (Kiro's frames have the same cap). */
export const DEFAULT_EVENT_LIMIT = 10 * 1024 * 1024

/**
 * One event (or one line) grew past the parser's limit. The upstream is broken or hostile: holding more would let
 * it take all memory, so the stream cannot go on.
 */
export class EventTooLargeError extends Error {
  override name = 'EventTooLargeError'

  constructor(readonly limit: number) {
    super(`a stream event is longer than the limit of ${+(limit / 1024 / 1024).toFixed(2)} MB`)
  }
}

/**
 * Streaming UTF-8 decoding as TextDecoder('utf-8') does it (a leading BOM dropped, each invalid sequence one
 * U+FFFD), by node's StringDecoder, which costs a fifth as much per read but keeps a leading BOM.
 */
function utf8Decoder(): {write(chunk: Uint8Array): string; end(): string} {
  const decoder = new StringDecoder('utf8')
  let atStart = true
  const dropBom = (text: string): string => {
    if (!atStart || text === '') return text
    atStart = false
    return text.startsWith('\uFEFF') ? text.slice(1) : text
  }
  return {write: (chunk) => dropBom(decoder.write(chunk)), end: () => dropBom(decoder.end())}
}

// WHATWG event-stream parsing, restricted to the `event` and `data` fields. Each byte is decoded and scanned
// once: a partial line is carried over, and a CR at the very end of a chunk remembers to swallow the LF that
// may start the next one. What an unfinished event holds is bounded by `maxEventLength` (characters).
export function createSseParser(maxEventLength = DEFAULT_EVENT_LIMIT): SseParser {
  const decoder = utf8Decoder()
  let partial = ''
  let pendingLf = false
  let eventName: string | undefined
  // The event's data lines so far, joined by LF (a string, not an array: there is one event per few lines).
  let data: string | undefined
  let out: SseEvent[] = []

  function dispatch(): void {
    if (data !== undefined) out.push(eventName === undefined ? {data} : {event: eventName, data})
    eventName = undefined
    data = undefined
  }

  function line(text: string): void {
    if (text === '') return dispatch()
    const colon = text.indexOf(':')
    if (colon === 0) return
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') {
      data = data === undefined ? value : `${data}\n${value}`
    } else if (field === 'event') eventName = value
  }

  function feed(text: string): void {
    if (text === '') return
    let start = pendingLf && text.startsWith('\n') ? 1 : 0
    pendingLf = false
    if (!text.includes('\r', start)) {
      // Most streams end lines with LF alone: found by indexOf, without a match object per line.
      for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
        line(partial + text.slice(start, end))
        partial = ''
        start = end + 1
      }
      return rest(text, start)
    }
    LINE_BREAK.lastIndex = start
    for (let m = LINE_BREAK.exec(text); m; m = LINE_BREAK.exec(text)) {
      line(partial + text.slice(start, m.index))
      partial = ''
      start = LINE_BREAK.lastIndex
      if (m[0] === '\r' && start === text.length) pendingLf = true
    }
    rest(text, start)
  }

  // What follows the last line break waits for the next read.
  function rest(text: string, start: number): void {
    partial += text.slice(start)
    // Checked once per read, so an event may pass the limit by at most one read before it is refused.
    if (partial.length + (data === undefined ? 0 : data.length + 1) > maxEventLength)
      throw new EventTooLargeError(maxEventLength)
  }

  function take(): SseEvent[] {
    const events = out
    out = []
    return events
  }

  return {
    push(chunk) {
      feed(decoder.write(chunk))
      return take()
    },
    end() {
      feed(decoder.end())
      if (partial !== '') line(partial)
      partial = ''
      // Upstreams sometimes close without the final blank line; the last event is still complete.
      dispatch()
      return take()
    },
  }
}

export function formatSse(data: string, event?: string): string {
  const head = event === undefined ? '' : `event: ${event}\n`
  return `${head}data: ${data.split('\n').join('\ndata: ')}\n\n`
}
