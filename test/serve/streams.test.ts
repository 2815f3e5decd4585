import {request} from 'undici'
import {describe, expect, it} from 'vitest'
import {parseSse, startAnthropicFake, startOpenAIFake} from '../fakes/index.js'
import {
  claudeInstance,
  openaiInstance,
  post,
  startTestProxy,
  testAgent,
  waitFor,
  type TestProxy,
  useProxyHarness,
} from '../helpers/proxy.js'

const h = useProxyHarness()

const longReply = {text: 'x'.repeat(400), chunkSize: 4}

async function cutSetup(): Promise<TestProxy> {
  const openai = await startOpenAIFake({
    name: 'oa',
    script: {fallback: {kind: 'cut', afterEvents: 5, reply: longReply}},
  })
  const anthropic = await startAnthropicFake({
    name: 'an',
    script: {fallback: {kind: 'cut', afterEvents: 5, reply: longReply}},
  })
  h.fakes = [openai, anthropic]
  return startTestProxy({
    'openai-custom': [openaiInstance(openai, 'oa')],
    'claude-custom': [claudeInstance(anthropic, 'an')],
  })
}

const CLIENTS = [
  {
    protocol: 'openai',
    path: '/v1/chat/completions',
    body: {model: 'm', stream: true, messages: [{role: 'user', content: 'hi'}]},
  },
  {
    protocol: 'anthropic',
    path: '/v1/messages',
    body: {model: 'm', max_tokens: 50, stream: true, messages: [{role: 'user', content: 'hi'}]},
  },
  {
    protocol: 'gemini',
    path: '/v1beta/models/m:streamGenerateContent?alt=sse',
    body: {contents: [{role: 'user', parts: [{text: 'hi'}]}]},
  },
] as const

describe('an upstream cut mid-stream', () => {
  for (const client of CLIENTS) {
    for (const type of ['openai-custom', 'claude-custom'] as const) {
      it(`${client.protocol} client, ${type}: ends with a protocol-shaped error event and counts the failure`, async () => {
        h.proxy = await cutSetup()
        const response = await post(`${h.proxy.url}/${type}${client.path}`, client.body)
        expect(response.status).toBe(200)
        const {events} = parseSse(response.text)
        const last = events.at(-1)!
        if (client.protocol === 'openai') {
          expect(JSON.parse(last.data).error.message).toMatch(/stream/i)
          expect(events.some((e) => e.data === '[DONE]')).toBe(false)
        } else if (client.protocol === 'anthropic') {
          expect(last.event).toBe('error')
          expect(JSON.parse(last.data)).toMatchObject({
            type: 'error',
            error: {type: expect.any(String), message: expect.any(String)},
          })
        } else {
          expect(JSON.parse(last.data).error).toMatchObject({code: expect.any(Number), message: expect.any(String)})
        }
        const live = h.proxy.state.list(type)[0]!
        expect(live.errorCount).toBe(1)
        expect(live.usageCount).toBe(0)
      })
    }
  }
})

describe('a client that goes away', () => {
  it('aborts the upstream request', async () => {
    const slow = await startOpenAIFake({
      name: 'slow',
      paceMs: 50,
      script: {fallback: {kind: 'reply', reply: longReply}},
    })
    h.fakes = [slow]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(slow, 'slow')]})
    const controller = new AbortController()
    const response = await request(`${h.proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({model: 'm', stream: true, messages: [{role: 'user', content: 'hi'}]}),
      dispatcher: testAgent,
      signal: controller.signal,
    })
    const reader = response.body[Symbol.asyncIterator]()
    await reader.next()
    controller.abort()
    await slow.waitFor(() => slow.aborted === 1, 3000)
    expect(slow.completed).toBe(0)
    await waitFor(() => h.proxy!.state.list('openai-custom')[0]!.inFlight === 0, 2000, 'in-flight to drop')
    expect(h.proxy.state.list('openai-custom')[0]!.errorCount).toBe(0)
  })

  it('streams pass through byte for byte when protocols match', async () => {
    const fake = await startAnthropicFake({
      name: 'an',
      script: {
        fallback: {
          kind: 'reply',
          reply: {text: 'héllo wörld 👋', thinking: {text: 'hmm', signature: 'sig'}, chunkSize: 2},
        },
      },
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'an')]})
    const body = {model: 'm', max_tokens: 50, stream: true, messages: [{role: 'user', content: 'hi'}]}
    const viaProxy = await post(`${h.proxy.url}/v1/messages`, body)
    const direct = await post(`${fake.url}/v1/messages`, body, {'x-api-key': 'k', 'anthropic-version': '2023-06-01'})
    const normalise = (text: string) => text.replace(/"(id|request_id)":"[^"]+"/g, '"$1":"X"')
    expect(normalise(viaProxy.text)).toBe(normalise(direct.text))
  })
})
