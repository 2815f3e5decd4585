import {EventEmitter} from 'node:events'
import {describe, expect, it} from 'vitest'
import type {WebSocket} from 'ws'
import {SocketSink} from './socket-sink.js'

/** The part of a `ws` socket the sink uses: messages are kept, their write callbacks held until `flush`. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1
  readyState = 1
  bufferedAmount = 0
  readonly sent: unknown[] = []
  private callbacks: Array<() => void> = []

  send(text: string, callback?: () => void): void {
    this.sent.push(JSON.parse(text))
    if (callback) this.callbacks.push(callback)
  }

  flush(): void {
    for (const callback of this.callbacks.splice(0)) callback()
  }
}

const sinkOver = (socket: FakeSocket) => new SocketSink(socket as unknown as WebSocket)

describe('the WebSocket sink', () => {
  it('sends each SSE event as one message, however the text was cut into writes', async () => {
    const socket = new FakeSocket()
    const sink = sinkOver(socket)
    sink.start()
    const text =
      'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n' +
      ': keep-alive\n\nevent: response.completed\r\ndata: {"type":"response.completed",\r\ndata: "sequence_number":1}\r\n\r\n'
    for (let i = 0; i < text.length; i += 7) await sink.write(text.slice(i, i + 7))
    sink.end()

    expect(socket.sent).toEqual([
      {type: 'response.created', sequence_number: 0},
      {type: 'response.completed', sequence_number: 1},
    ])
    expect(sink.started).toBe(true)
  })

  it('gives an SSE error event the error object Codex reads over the socket', async () => {
    const socket = new FakeSocket()
    const sink = sinkOver(socket)
    await sink.write('data: {"type":"error","code":"server_error","message":"upstream broke","sequence_number":4}\n\n')

    expect(socket.sent).toEqual([
      {
        type: 'error',
        code: 'server_error',
        message: 'upstream broke',
        sequence_number: 4,
        error: {type: 'server_error', code: 'server_error', message: 'upstream broke', param: null},
      },
    ])
  })

  it('sends a JSON error answer as an error message with its status', () => {
    const socket = new FakeSocket()
    const sink = sinkOver(socket)
    const body = {error: {message: 'Slow down.', type: 'rate_limit_error', param: null, code: null}}

    sink.send(429, {'content-type': 'application/json', 'retry-after': '3'}, JSON.stringify(body))

    expect(socket.sent).toEqual([{type: 'error', status: 429, error: body.error, headers: {'retry-after': '3'}}])
  })

  it('holds a write while too much is queued on the socket, until it is flushed', async () => {
    const socket = new FakeSocket()
    const sink = sinkOver(socket)
    const event = 'data: {"type":"response.output_text.delta","delta":"x"}\n\n'

    expect(sink.write(event)).toBeUndefined()
    socket.bufferedAmount = 1024 * 1024
    let resolved = false
    void sink.write(event)!.then(() => (resolved = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(resolved).toBe(false)

    socket.flush()
    await new Promise((resolve) => setImmediate(resolve))
    expect(resolved).toBe(true)
  })

  it('reports the client gone when the socket closes before the answer ended, not after', () => {
    const socket = new FakeSocket()
    const early = sinkOver(socket)
    let calls = 0
    early.onGone(() => calls++)
    socket.readyState = 3
    socket.emit('close')
    expect(early.gone).toBe(true)
    expect(calls).toBe(1)

    const other = new FakeSocket()
    const finished = sinkOver(other)
    let late = 0
    finished.onGone(() => late++)
    finished.end()
    other.emit('close')
    expect(late).toBe(0)
  })
})
