// Minimal WHATWG SSE parser for tests that read the fakes (or the proxy) without an SDK.

export interface SseEvent {
  event?: string
  data: string
}

export interface ParsedSse {
  events: SseEvent[]
  /** Comment lines (keep-alives), without the leading ':' */
  comments: string[]
}

/** Parses a complete SSE body; accepts LF and CRLF endings; data lines of one event are joined with '\n' */
export function parseSse(text: string): ParsedSse {
  const events: SseEvent[] = []
  const comments: string[] = []
  let event: string | undefined
  let data: string[] = []
  const dispatch = (): void => {
    if (data.length > 0) events.push({...(event === undefined ? {} : {event}), data: data.join('\n')})
    event = undefined
    data = []
  }
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      dispatch()
      continue
    }
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim())
      continue
    }
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (name === 'event') event = value
    else if (name === 'data') data.push(value)
  }
  dispatch()
  return {events, comments}
}
