import {connect} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream, type RecordedRequest} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

/** Requests the server must answer with a 400 of its own, before any instance is used and without counting one. */

/** Streams whenever `stream` is truthy, as some OpenAI- and Anthropic-compatible servers do. */
function lenient(protocol: 'openai' | 'anthropic') {
  const frames =
    protocol === 'openai'
      ? 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
      : 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
  return (req: RecordedRequest) =>
    req.body?.stream && req.body.stream !== true
      ? {kind: 'raw' as const, status: 200, headers: {'content-type': 'text/event-stream'}, body: frames}
      : undefined
}

let openai: FakeUpstream
let anthropic: FakeUpstream
let proxy: TestProxy
const upstreamCalls = () => openai.count + anthropic.count
const nothingCounted = () => expect(proxy.state.list().map((live) => live.errorCount)).toEqual([0, 0])

beforeAll(async () => {
  openai = await startOpenAIFake({name: 'oa', script: {handler: lenient('openai')}})
  anthropic = await startAnthropicFake({name: 'an', script: {handler: lenient('anthropic')}})
  proxy = await startTestProxy({
    'openai-custom': [openaiInstance(openai, 'oa')],
    'claude-custom': [claudeInstance(anthropic, 'an')],
  })
})
afterAll(async () => {
  await proxy.cleanup()
  await openai.close()
  await anthropic.close()
})

describe('"stream" must be a boolean', () => {
  const chat = {model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'hi'}]}
  const routes: Array<[string, string, RegExp]> = [
    [
      'OpenAI, passed through',
      '/openai-custom/v1/chat/completions',
      /"error":\{"message":"\\"stream\\" must be true or false/,
    ],
    [
      'Anthropic, passed through',
      '/claude-custom/v1/messages',
      /"type":"error","error":\{"type":"invalid_request_error","message":"\\"stream\\" must be true or false/,
    ],
    ['OpenAI, converted', '/claude-custom/v1/chat/completions', /"stream\\" must be true or false/],
    ['Anthropic count_tokens', '/claude-custom/v1/messages/count_tokens', /"stream\\" must be true or false/],
  ]
  for (const [name, path, shape] of routes) {
    it(`${name}: "true", 1, "yes", {} are a 400 that no upstream sees`, async () => {
      const before = upstreamCalls()
      // Three of them used to make a lenient upstream's instance unhealthy.
      for (const stream of ['true', 1, 'yes', {}]) {
        const answer = await post(`${proxy.url}${path}`, {...chat, stream})
        expect(answer.status, JSON.stringify(stream)).toBe(400)
        expect(answer.text).toMatch(shape)
      }
      expect(upstreamCalls()).toBe(before)
      nothingCounted()
    })
  }

  it('true, false, null and absent are served', async () => {
    for (const stream of [true, false, null, undefined]) {
      const answer = await post(`${proxy.url}/openai-custom/v1/chat/completions`, {...chat, stream})
      expect(answer.status, String(stream)).toBe(200)
      expect(answer.text.startsWith('data:')).toBe(stream === true)
    }
    nothingCounted()
  })
})

/** The status line of a raw request, for targets no HTTP client library would send. */
async function rawStatus(requestLine: string): Promise<{status: number; text: string}> {
  const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(
    `${requestLine}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
  )
  let text = ''
  socket.on('data', (d: Buffer) => (text += d.toString()))
  await new Promise((resolve) => socket.once('close', resolve))
  return {status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), text}
}

describe('malformed request targets are a 400, never a 500', () => {
  it('bad percent-encoding in a prefix or a Gemini model segment', async () => {
    const prefix = await post(`${proxy.url}/%E0%A4%A/v1/chat/completions`, {
      model: 'm',
      messages: [{role: 'user', content: 'hi'}],
    })
    expect(prefix.status).toBe(400)
    expect(prefix.json().error.message).toMatch(/percent-encoding/)
    const model = await post(`${proxy.url}/openai-custom/v1beta/models/%E0%A4%A:generateContent`, {
      contents: [{role: 'user', parts: [{text: 'hi'}]}],
    })
    expect(model.status).toBe(400)
    expect(model.json()).toMatchObject({error: {code: 400, status: 'INVALID_ARGUMENT'}})
    const bare = await post(`${proxy.url}/v1beta/models/%FF:generateContent`, {
      contents: [{role: 'user', parts: [{text: 'hi'}]}],
    })
    expect(bare.status).toBe(400)
  })

  it('an absolute-form target that is not a URL', async () => {
    for (const line of [
      'GET http://[ HTTP/1.1',
      'POST http://[::1/v1/chat/completions HTTP/1.1',
      'POST ftp://127.0.0.1/v1/chat/completions HTTP/1.1',
    ]) {
      const answer = await rawStatus(line)
      expect(answer.status, line).toBe(400)
      expect(answer.text).toMatch(/"error":\{"message":"The request target/)
    }
  })

  it('well-formed targets still route: encoded models, absolute form, a doubled slash', async () => {
    const before = upstreamCalls()
    // Routed: the empty body's missing model is the complaint, not an unknown route.
    expect((await rawStatus('POST http://127.0.0.1/openai-custom/v1/chat/completions HTTP/1.1')).text).toMatch(
      /400 Bad Request[\s\S]*has no \\"model\\"/,
    )
    const encoded = await post(`${proxy.url}/openai-custom/v1beta/models/gpt%2D4o:generateContent`, {
      contents: [{role: 'user', parts: [{text: 'hi'}]}],
    })
    expect(encoded.status).toBe(200)
    expect(openai.requests.at(-1)!.body.model).toBe('gpt-4o')
    expect(
      (
        await post(`${proxy.url}//openai-custom/v1/chat/completions`, {
          model: 'm',
          messages: [{role: 'user', content: 'hi'}],
        })
      ).status,
    ).toBe(200)
    expect(upstreamCalls()).toBe(before + 2)
  })
})
