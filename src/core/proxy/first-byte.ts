import type {ClientSink} from '../http/client-sink.js'

/** A client sink that notes when the answer began to leave for the client: the status line, whole or streamed. */
export interface TimedSink extends ClientSink {
  readonly firstByteAt: number | undefined
}

export function timedSink(sink: ClientSink, now: () => number): TimedSink {
  let firstByteAt: number | undefined
  const mark = () => {
    if (firstByteAt === undefined && !sink.started) firstByteAt = now()
  }
  return {
    get started() {
      return sink.started
    },
    get gone() {
      return sink.gone
    },
    get firstByteAt() {
      return firstByteAt
    },
    send(status, headers, body) {
      mark()
      sink.send(status, headers, body)
    },
    start(status, headers) {
      mark()
      sink.start(status, headers)
    },
    write: (chunk) => sink.write(chunk),
    end: (chunk) => sink.end(chunk),
    onGone: (listener) => sink.onGone(listener),
  }
}
