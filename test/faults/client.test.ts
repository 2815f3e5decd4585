import {connect, type Socket} from 'node:net'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {tempDir} from '../helpers/cli.js'
import {
  claudeInstance,
  openaiInstance,
  post,
  startTestProxy,
  testAgent,
  waitFor,
  failOnUnhandledRejections,
  type TestProxy,
} from '../helpers/proxy.js'
import {startServeProcess} from '../helpers/serve-process.js'

failOnUnhandledRejections()

let openai: FakeUpstream
let anthropic: FakeUpstream
let proxy: TestProxy

beforeAll(async () => {
  openai = await startOpenAIFake({name: 'oa', paceMs: 20})
  anthropic = await startAnthropicFake({name: 'an'})
  proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(openai, 'oa')], 'claude-custom': [claudeInstance(anthropic, 'an')]},
    {config: {CLIENT_HEADERS_TIMEOUT_SECONDS: 0.5}},
  )
})
afterAll(async () => {
  await proxy.cleanup()
  await openai.close()
  await anthropic.close()
})

const stillServes = async () =>
  expect(
    (
      await post(`${proxy.url}/openai-custom/v1/chat/completions`, {
        model: 'm',
        messages: [{role: 'user', content: 'ok?'}],
      })
    ).status,
  ).toBe(200)

describe('malformed requests get a 4xx in the client protocol', () => {
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['wrong type for model', '/openai-custom/v1/chat/completions', {model: 5, messages: []}, 400, /The request has no/],
    [
      'wrong type for messages, converted',
      '/claude-custom/v1/chat/completions',
      {model: 'm', messages: 'hello'},
      400,
      /messages/,
    ],
    [
      'wrong type for messages, passed through',
      '/claude-custom/v1/messages',
      {model: 'm', max_tokens: 5, messages: 'hello'},
      400,
      /messages/,
    ],
    ['missing messages, converted', '/openai-custom/v1/messages', {model: 'm', max_tokens: 5}, 400, /messages/],
    [
      'missing max_tokens, passed through',
      '/claude-custom/v1/messages',
      {model: 'm', messages: [{role: 'user', content: 'x'}]},
      400,
      /max_tokens/,
    ],
    ['a JSON array', '/openai-custom/v1/chat/completions', [1, 2], 400, /JSON object/],
    [
      'Gemini contents of the wrong shape',
      '/openai-custom/v1beta/models/m:generateContent',
      {contents: 'hi'},
      400,
      /contents/,
    ],
  ]
  for (const [name, path, body, status, message] of cases) {
    it(name, async () => {
      const answer = await post(`${proxy.url}${path}`, body)
      expect(answer.status).toBe(status)
      expect(answer.text).toMatch(message)
      expect(proxy.state.list().every((l) => l.errorCount === 0)).toBe(true)
    })
  }
})

describe('hostile clients', () => {
  it('headers sent too slowly get 408 and the connection closed', async () => {
    const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n')
    let answer = ''
    socket.on('data', (d) => (answer += d.toString()))
    const started = Date.now()
    await new Promise((r) => socket.once('close', r))
    expect(Date.now() - started).toBeLessThan(3000)
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
    await stillServes()
  })

  it('aborts at every phase leave the server serving and nothing counted', async () => {
    const port = Number(new URL(proxy.url).port)
    // While the body is still being sent.
    const partial = connect(port, '127.0.0.1')
    await new Promise((r) => partial.once('connect', r))
    partial.write(
      'POST /openai-custom/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":"m","mess',
    )
    await new Promise((r) => setTimeout(r, 50))
    partial.destroy()
    // After the request, before the answer; and in the middle of a stream.
    for (const waitMs of [5, 120]) {
      const controller = new AbortController()
      const pending = request(`${proxy.url}/openai-custom/v1/chat/completions`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({model: 'm', stream: true, messages: [{role: 'user', content: 'x'.repeat(100)}]}),
        dispatcher: testAgent,
        signal: controller.signal,
      })
      setTimeout(() => controller.abort(), waitMs)
      await pending.then((r) => r.body.text()).catch(() => undefined)
    }
    await waitFor(() => proxy.state.list('openai-custom')[0]!.inFlight === 0, 3000, 'in-flight to drain')
    expect(proxy.state.list().every((l) => l.errorCount === 0)).toBe(true)
    await stillServes()
  })
})

describe('many idle connections', () => {
  it('2,000 idle keep-alive connections: still serving, and memory back to its baseline once they go', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    const {dir, cleanup} = await tempDir()
    // A small old space makes V8 collect instead of growing lazily, so RSS shows what is really kept.
    const serve = await startServeProcess(dir, {'openai-custom': [openaiInstance(fake, 'up')]}, {}, [], {
      NODE_OPTIONS: '--max-old-space-size=64',
    })
    const sockets: Socket[] = []
    const port = Number(new URL(serve.url).port)
    // One round of 2,000 idle connections, a request while they are open, then all of them closed.
    const round = async () => {
      for (let i = 0; i < 2000; i++) {
        const socket = connect(port, '127.0.0.1')
        socket.on('error', () => {})
        sockets.push(socket)
        if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20))
      }
      await Promise.all(
        sockets.map((s) => (s.readyState === 'open' ? undefined : new Promise((r) => s.once('connect', r)))),
      )
      expect(
        (await post(`${serve.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]}))
          .status,
      ).toBe(200)
      for (const socket of sockets.splice(0)) socket.destroy()
      await new Promise((r) => setTimeout(r, 1000))
      return serve.rssMb()
    }
    try {
      // V8 keeps memory it once grew to and takes a few rounds to settle (it did by the third in every run seen):
      // the baseline is taken after three rounds, and two more must not add to it.
      await round()
      await round()
      const baseline = await round()
      const after = [await round(), await round()]
      expect(Math.max(...after)).toBeLessThan(baseline * 1.1)
      expect(await serve.stop()).toBe(0)
    } finally {
      for (const socket of sockets) socket.destroy()
      await fake.close()
      await cleanup()
    }
  }, 30_000)
})
