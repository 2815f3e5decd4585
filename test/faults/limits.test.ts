import {connect, type Socket} from 'node:net'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {openaiInstance, startTestProxy, waitFor, type TestProxy} from '../helpers/proxy.js'

/**
 * Slow, unfinished and numerous clients: each is bounded in time, and all together in connections and in request
 * bytes held, with answers in the client's protocol.
 */

let upstream: FakeUpstream
let proxy: TestProxy
let port: number
const sockets: Socket[] = []

beforeAll(async () => {
  upstream = await startOpenAIFake({name: 'up'})
  proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(upstream, 'up')]},
    {
      config: {
        CLIENT_HEADERS_TIMEOUT_SECONDS: 0.5,
        CLIENT_BODY_TIMEOUT_SECONDS: 0.5,
        MAX_BUFFERED_BODY_MB: 1,
        REQUEST_BODY_LIMIT_MB: 0.75,
        MAX_CONNECTIONS: 4,
      },
    },
  )
  port = Number(new URL(proxy.url).port)
})
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  // Connections count until the server has seen them close.
  await new Promise((resolve) => setTimeout(resolve, 50))
})
afterAll(async () => {
  await proxy.cleanup()
  await upstream.close()
})

interface Client {
  write(text: string): void
  destroy(): void
  /** Everything the server sent so far. */
  received(): string
  /** Settles when the server has closed the connection. */
  gone: Promise<void>
}

/** A client socket that collects what the server sends. */
async function open(): Promise<Client> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => {})
  let received = ''
  socket.on('data', (d: Buffer) => (received += d.toString()))
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise((resolve) => socket.once('connect', resolve))
  return {write: (text) => void socket.write(text), destroy: () => socket.destroy(), received: () => received, gone}
}

const head = (length: number | 'chunked', path = '/v1/chat/completions') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`}\r\n\r\n`

/** A complete chat request of about `size` bytes. */
function chat(size: number): string {
  const base = JSON.stringify({model: 'm', messages: [{role: 'user', content: ''}]})
  return JSON.stringify({model: 'm', messages: [{role: 'user', content: 'x'.repeat(Math.max(0, size - base.length))}]})
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
  )
  try {
    return await Promise.race([promise, limit])
  } finally {
    clearTimeout(timer)
  }
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])

describe('request bodies', () => {
  it('a body trickled in too slowly gets a 408 in the client protocol and the connection closed', async () => {
    const client = await open()
    client.write(head(200))
    client.write('{"model":"m",')
    const trickle = setInterval(() => client.write(' '), 100)
    try {
      await within(client.gone, 3000, 'closing a trickled body')
    } finally {
      clearInterval(trickle)
    }
    expect(statusOf(client.received())).toBe(408)
    expect(client.received()).toMatch(/"error":\{"message":"The request body did not arrive within 0.5 s/)
    expect(upstream.count).toBe(0)
  })

  it('a body nobody reads (after a 404) cannot keep its connection either', async () => {
    const client = await open()
    client.write(head(200, '/nowhere'))
    const trickle = setInterval(() => client.write(' '), 100)
    try {
      await within(client.gone, 4000, 'closing an unread trickled body')
    } finally {
      clearInterval(trickle)
    }
    expect(statusOf(client.received())).toBe(404)
  })

  it('bodies held at once are capped: over it a 503 with retry-after, and the budget comes back', async () => {
    const size = 600 * 1024
    // An unfinished body holding most of its bytes, then a second one that would take the total over 1 MB.
    const held = await open()
    held.write(head(size) + '{"model":"m","messages":[' + ' '.repeat(size - 100))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const over = await open()
    over.write(head(size) + ' '.repeat(size - 1))
    await within(
      waitFor(() => over.received() !== '', 3000),
      3000,
      'answer to the second body',
    )
    expect(statusOf(over.received())).toBe(503)
    expect(over.received()).toMatch(/retry-after: 1/i)
    expect(over.received()).toMatch(/"error":\{"message":"The server is receiving too many request bodies/)
    const chunked = await open()
    chunked.write(head('chunked'))
    const piece = 'x'.repeat(100 * 1024)
    for (let i = 0; i < 6 && chunked.received() === ''; i++) {
      chunked.write(`${piece.length.toString(16)}\r\n${piece}\r\n`)
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await within(
      waitFor(() => chunked.received() !== '', 3000),
      3000,
      'answer to the chunked body',
    )
    expect(statusOf(chunked.received())).toBe(503)
    over.destroy()
    chunked.destroy()
    // Headers that only declare a large body hold nothing.
    const declaring = await open()
    declaring.write(head(size))
    // The held body goes away with its client; a request of the same size is then served.
    held.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const served = await open()
    const body = chat(size)
    served.write(head(Buffer.byteLength(body)) + body)
    await within(
      waitFor(() => served.received().includes('chat.completion'), 3000),
      3000,
      'a request after the budget came back',
    )
    expect(statusOf(served.received())).toBe(200)
  })
})

describe('connections', () => {
  it('past the cap a request gets a 503 with retry-after in its protocol, and is served once others close', async () => {
    const idle = await Promise.all([open(), open(), open(), open()])
    const extra = await open()
    extra.write(
      `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    )
    await within(extra.gone, 3000, 'the over-cap answer')
    expect(statusOf(extra.received())).toBe(503)
    expect(extra.received()).toMatch(/retry-after: 1/i)
    expect(extra.received()).toMatch(
      /"type":"error","error":\{"type":"overloaded_error","message":"The server has too many open connections \(limit 4\)/,
    )
    for (const socket of idle) socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const later = await open()
    const body = chat(100)
    later.write(head(Buffer.byteLength(body)) + body)
    await within(
      waitFor(() => later.received().includes('chat.completion'), 3000),
      3000,
      'a request under the cap',
    )
    expect(statusOf(later.received())).toBe(200)
  })
})
