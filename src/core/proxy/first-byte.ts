import {tappedSink, type ClientSink} from '../http/client-sink.js'

/** A client sink that notes when the answer began to leave for the client: the status line, whole or streamed. */
export interface TimedSink extends ClientSink {
  readonly firstByteAt: number | undefined
}

export function timedSink(sink: ClientSink, now: () => number): TimedSink {
  let firstByteAt: number | undefined
  const tapped = tappedSink(sink, {
    head: () => {
      if (firstByteAt === undefined && !sink.started) firstByteAt = now()
    },
  })
  return Object.defineProperty(tapped, 'firstByteAt', {get: () => firstByteAt}) as TimedSink
}
