import type {IncomingMessage} from 'node:http'
import {describe, expect, it} from 'vitest'
import WebSocket from 'ws'
import {codecs} from '../../src/core/codecs/index.js'
import {PoolState} from '../../src/core/pools/pool-state.js'
import {ProxyServer} from '../../src/core/server/server.js'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, useProxyHarness, waitFor} from '../helpers/proxy.js'

const h = useProxyHarness({failOnUnhandledRejection: true})

const KEY = 'sk-proxy-websocket-test-key'
const MODEL = 'gpt-4o-mini'
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error'])

/** Messages a client received, read in order. */
class Inbox {
  private readonly messages: any[] = []
  private waiters: Array<() => void> = []

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()))
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  async next(timeoutMs = 5000): Promise<any> {
    if (this.messages.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message arrived')), timeoutMs)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.messages.shift()
  }

  /** Sends one message and reads the events it is answered with, up to the one that ends the turn. */
  async turn(message: Record<string, unknown>): Promise<any[]> {
    this.ws.send(JSON.stringify(message))
    const events = []
    for (;;) {
      const event = await this.next()
      events.push(event)
      if (TERMINAL.has(event.type)) return events
    }
  }
}

const socketUrl = (url: string, path = '/v1/responses') => `${url.replace(/^http/, 'ws')}${path}`

async function connect(url: string, headers: Record<string, string> = {}, path?: string): Promise<Inbox> {
  const ws = new WebSocket(socketUrl(url, path), {headers})
  const inbox = new Inbox(ws)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)))
    ws.once('error', reject)
  })
  return inbox
}

/** The HTTP answer to an upgrade the server refused. */
async function refusal(url: string, headers: Record<string, string> = {}, path?: string) {
  const ws = new WebSocket(socketUrl(url, path), {headers})
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')))
    ws.once('unexpected-response', (_req, response) => resolve(response))
    ws.once('error', reject)
  })
  let text = ''
  for await (const chunk of res) text += String(chunk)
  return {status: res.statusCode, headers: res.headers, body: JSON.parse(text)}
}

async function proxyOver(...fakes: FakeUpstream[]) {
  h.fakes.push(...fakes)
  h.proxy = await startTestProxy({'openai-custom': fakes.map((fake) => openaiInstance(fake, fake.name))}, {apiKey: KEY})
  return h.proxy
}

const auth = {authorization: `Bearer ${KEY}`}
const create = (body: Record<string, unknown>) => ({type: 'response.create', model: MODEL, ...body})

/** The SSE events of an HTTP answer, as JSON. */
const sseEvents = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)))

describe('the Responses WebSocket mode', () => {
  it('answers a response.create with the same events, in the same order, as the HTTP stream', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))
    const body = {input: 'Say hello.', store: false}
    const http = await post(`${proxy.url}/v1/responses`, {model: MODEL, stream: true, ...body}, auth)
    expect(http.status).toBe(200)
    const inbox = await connect(proxy.url, auth)

    const events = await inbox.turn(create(body))

    expect(events.map((e) => e.type)).toEqual(sseEvents(http.text).map((e) => e.type))
    expect(events.at(-1).type).toBe('response.completed')
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(proxy.records).toHaveLength(2)
    expect(proxy.records[1]).toMatchObject({protocol: 'responses', status: 200, stream: true})
    inbox.ws.close()
  })

  it('runs a tool round trip on one connection with store:false, the follow-up naming the first by id', async () => {
    const fake = await startOpenAIFake({name: 'a', callToolsWhenOffered: true})
    const proxy = await proxyOver(fake)
    const tools = [
      {type: 'function', name: 'get_weather', parameters: {type: 'object', properties: {city: {type: 'string'}}}},
    ]
    const inbox = await connect(proxy.url, auth)

    const first = await inbox.turn(create({input: 'Weather in Paris?', tools, store: false}))
    const done = first.at(-1)
    expect(done.type).toBe('response.completed')
    const call = done.response.output.find((item: any) => item.type === 'function_call')
    expect(call).toMatchObject({name: 'get_weather'})

    const output = {type: 'function_call_output', call_id: call.call_id, output: 'sunny'}
    const second = await inbox.turn(
      create({previous_response_id: done.response.id, input: [output], tools, store: false}),
    )

    expect(second.at(-1).type).toBe('response.completed')
    // The upstream saw the whole conversation: the question, the call and its result.
    const messages = fake.requests[1]!.body.messages
    expect(messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'tool'])
    expect(messages[1].tool_calls[0].id).toBe(call.call_id)
    expect(messages[2]).toMatchObject({tool_call_id: call.call_id, content: 'sunny'})
    inbox.ws.close()
  })

  it('answers a generate:false prewarm without the pool, and the first turn continues it', async () => {
    const fake = await startOpenAIFake({name: 'a'})
    const proxy = await proxyOver(fake)
    const inbox = await connect(proxy.url, auth)
    const developer = {type: 'message', role: 'developer', content: [{type: 'input_text', text: 'Be brief.'}]}

    const prewarm = await inbox.turn(create({input: [developer], store: false, generate: false}))

    expect(prewarm.map((e) => e.type)).toEqual(['response.created', 'response.completed'])
    const id = prewarm[1].response.id
    expect(id).toMatch(/^resp_/)
    expect(prewarm[1].response.output).toEqual([])
    expect(fake.count).toBe(0)
    expect(proxy.records).toEqual([
      expect.objectContaining({protocol: 'responses', instance: null, status: 200, attempts: 0}),
    ])

    const user = {type: 'message', role: 'user', content: [{type: 'input_text', text: 'Say hello.'}]}
    const turn = await inbox.turn(create({previous_response_id: id, input: [user], store: false}))
    expect(turn.at(-1).type).toBe('response.completed')
    const messages = fake.requests[0]!.body.messages
    expect(messages.map((m: any) => m.role)).toEqual([expect.stringMatching(/^(developer|system)$/), 'user'])
    inbox.ws.close()
  })

  it('answers a follow-up naming an unknown id with previous_response_not_found, and stays open', async () => {
    const fake = await startOpenAIFake({name: 'a'})
    const proxy = await proxyOver(fake)
    const inbox = await connect(proxy.url, auth)

    for (const generate of [undefined, false]) {
      const [error] = await inbox.turn(create({previous_response_id: 'resp_unknown', input: 'Go on.', generate}))
      expect(error).toMatchObject({
        type: 'error',
        status: 400,
        error: {code: 'previous_response_not_found', param: 'previous_response_id'},
      })
    }
    expect(fake.count).toBe(0)
    expect((await inbox.turn(create({input: 'Hello.'}))).at(-1).type).toBe('response.completed')
    inbox.ws.close()
  })

  it('answers malformed messages with an error message and keeps the connection', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))
    const inbox = await connect(proxy.url, auth)

    inbox.ws.send('not json')
    expect(await inbox.next()).toMatchObject({type: 'error', status: 400, error: {type: 'invalid_request_error'}})
    inbox.ws.send(JSON.stringify({type: 'session.update'}))
    const unknown = await inbox.next()
    expect(unknown).toMatchObject({type: 'error', status: 400})
    expect(unknown.error.message).toContain('session.update')
    inbox.ws.send(Buffer.from('{}'), {binary: true})
    expect(await inbox.next()).toMatchObject({type: 'error', status: 400})

    const prewarm = await inbox.turn(create({input: [], generate: false}))
    expect(prewarm.at(-1).type).toBe('response.completed')
    inbox.ws.close()
  })

  it('refuses a wrong key with a 401 before the upgrade, in the OpenAI error shape', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))

    const wrong = await refusal(proxy.url, {authorization: 'Bearer sk-wrong'})
    expect(wrong.status).toBe(401)
    expect(wrong.body.error.message).toContain('API key')
    expect((await refusal(proxy.url)).status).toBe(401)

    // Positive controls: the key in any of its forms opens the socket.
    ;(await connect(proxy.url, auth)).ws.close()
    ;(await connect(proxy.url, {'x-api-key': KEY})).ws.close()
    ;(await connect(proxy.url, {}, `/v1/responses?key=${KEY}`)).ws.close()
  })

  it('refuses a web page of a foreign origin, which a browser lets open a socket anywhere', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))

    const foreign = await refusal(proxy.url, {...auth, origin: 'https://evil.example'})

    expect(foreign.status).toBe(403)
    expect(foreign.body.error.message).toContain('https://evil.example')
    ;(await connect(proxy.url, {...auth, origin: proxy.url})).ws.close()
  })

  it('serves the type prefix, and refuses other paths and unknown prefixes with plain HTTP answers', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))

    expect((await refusal(proxy.url, auth, '/v1/chat/completions')).status).toBe(404)
    const unknown = await refusal(proxy.url, auth, '/no-such-type/v1/responses')
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toContain('no-such-type')

    const prefixed = await connect(proxy.url, auth, '/openai-custom/v1/responses')
    expect((await prefixed.turn(create({input: 'Hi.'}))).at(-1).type).toBe('response.completed')
    prefixed.ws.close()
    ;(await connect(proxy.url, auth, '/responses')).ws.close()
  })

  it('leaves plain HTTP requests on the same port as they were', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))
    const inbox = await connect(proxy.url, auth)

    const chat = await post(
      `${proxy.url}/v1/chat/completions`,
      {model: MODEL, messages: [{role: 'user', content: 'hi'}]},
      auth,
    )

    expect(chat.status).toBe(200)
    expect(chat.json().choices[0].message.role).toBe('assistant')
    expect((await inbox.turn(create({input: 'Hi.'}))).at(-1).type).toBe('response.completed')
    inbox.ws.close()
  })

  it('aborts the upstream request when the client closes the socket mid-stream', async () => {
    const fake = await startOpenAIFake({
      name: 'slow',
      paceMs: 100,
      script: {fallback: {kind: 'reply', reply: {text: 'word '.repeat(100), chunkSize: 5}}},
    })
    const proxy = await proxyOver(fake)
    const inbox = await connect(proxy.url, auth)

    inbox.ws.send(JSON.stringify(create({input: 'Talk a while.'})))
    let event = await inbox.next()
    while (event.type !== 'response.output_text.delta') event = await inbox.next()
    expect(fake.aborted).toBe(0)
    inbox.ws.close()

    await fake.waitFor(() => fake.aborted === 1, 3000)
    await waitFor(() => proxy.records.length === 1, 3000, 'the record of the cancelled turn')
  })

  it('fails over to the next instance when the first answers 500 before streaming', async () => {
    const broken = await startOpenAIFake({name: 'broken', script: {fallback: {kind: 'status', status: 500}}})
    const good = await startOpenAIFake({name: 'good'})
    const proxy = await proxyOver(broken, good)
    const inbox = await connect(proxy.url, auth)

    for (let i = 0; i < 2; i++) {
      const events = await inbox.turn(create({input: `Turn ${i}.`, store: false}))
      expect(events.at(-1).type).toBe('response.completed')
    }

    expect(broken.count).toBeGreaterThanOrEqual(1)
    expect(good.completed).toBe(2)
    expect(proxy.records.some((r) => r.attempts === 2 && r.instance === 'good')).toBe(true)
    inbox.ws.close()
  })

  it('closes open sockets with 1001 when the server stops', async () => {
    const proxy = await proxyOver(await startOpenAIFake({name: 'a'}))
    const inbox = await connect(proxy.url, auth)
    const closed = new Promise<number>((resolve) => inbox.ws.once('close', (code) => resolve(code)))

    await proxy.cleanup()
    h.proxy = undefined

    expect(await closed).toBe(1001)
  })
})

describe('WebSocket keepalive', () => {
  it('pings each connection and cuts one that stopped answering', async () => {
    const server = new ProxyServer({state: new PoolState(), adapters: {}, codecs, websocketKeepaliveMs: 50})
    const {port} = await server.listen(0, '127.0.0.1')
    try {
      const url = `ws://127.0.0.1:${port}/v1/responses`
      const open = (options: WebSocket.ClientOptions) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, options)
          ws.once('open', () => resolve(ws))
          ws.once('error', reject)
        })
      const silent = await open({autoPong: false})
      const answering = await open({})
      let pings = 0
      answering.on('ping', () => pings++)

      const code = await new Promise<number>((resolve) => silent.once('close', (c) => resolve(c)))

      expect(code).toBe(1006)
      expect(pings).toBeGreaterThanOrEqual(1)
      expect(answering.readyState).toBe(WebSocket.OPEN)
      answering.close()
    } finally {
      await server.close(0)
    }
  })
})
