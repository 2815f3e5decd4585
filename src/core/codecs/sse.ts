export interface SseEvent {
  event?: string
  data: string
}

export interface SseParser {
  push(chunk: Uint8Array): SseEvent[]
  end(): SseEvent[]
}

const LINE_BREAK = /\r\n|\r|\n/g

// WHATWG event-stream parsing, restricted to the `event` and `data` fields. Each byte is decoded and scanned
// once: a partial line is carried over, and a CR at the very end of a chunk remembers to swallow the LF that
// may start the next one.
export function createSseParser(): SseParser {
  const decoder = new TextDecoder('utf-8')
  let partial = ''
  let pendingLf = false
  let eventName: string | undefined
  let dataLines: string[] = []
  let out: SseEvent[] = []

  function dispatch(): void {
    if (dataLines.length > 0) {
      out.push(eventName === undefined ? {data: dataLines.join('\n')} : {event: eventName, data: dataLines.join('\n')})
    }
    eventName = undefined
    dataLines = []
  }

  function line(text: string): void {
    if (text === '') return dispatch()
    const colon = text.indexOf(':')
    if (colon === 0) return
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') dataLines.push(value)
    else if (field === 'event') eventName = value
  }

  function feed(text: string): void {
    if (text === '') return
    let start = pendingLf && text.startsWith('\n') ? 1 : 0
    pendingLf = false
    LINE_BREAK.lastIndex = start
    for (let m = LINE_BREAK.exec(text); m; m = LINE_BREAK.exec(text)) {
      line(partial + text.slice(start, m.index))
      partial = ''
      start = LINE_BREAK.lastIndex
      if (m[0] === '\r' && start === text.length) pendingLf = true
    }
    partial += text.slice(start)
  }

  function take(): SseEvent[] {
    const events = out
    out = []
    return events
  }

  return {
    push(chunk) {
      feed(decoder.decode(chunk, {stream: true}))
      return take()
    },
    end() {
      feed(decoder.decode())
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
