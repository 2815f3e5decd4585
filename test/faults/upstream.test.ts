import {describe, expect, it} from 'vitest'
import {parseSse, startAnthropicFake, startOpenAIFake, type Behaviour} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness({failOnUnhandledRejection: true})

/** Fast timeouts so every fault resolves within a second or two. */
const CONFIG = {HEADERS_TIMEOUT_SECONDS: 0.5, STREAM_IDLE_TIMEOUT_SECONDS: 0.5, RESPONSE_BODY_LIMIT_MB: 1}
const chat = (url: string, stream = false) =>
  post(`${url}/v1/chat/completions`, {model: 'm', stream, messages: [{role: 'user', content: 'hi'}]})

function sockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
}

const BEFORE_FIRST_BYTE: Array<[string, Behaviour, boolean]> = [
  ['reset before headers', {kind: 'destroy'}, false],
  [
    'invalid JSON',
    {
      kind: 'raw',
      status: 200,
      headers: {'content-type': 'application/json'},
      body: '{"id": "chatcmpl-1", "choices": [tru',
    },
    false,
  ],
  ['a wrong content type', {kind: 'raw', status: 200, headers: {'content-type': 'text/plain'}, body: 'hello'}, false],
  [
    'an HTML error page',
    {
      kind: 'raw',
      status: 502,
      headers: {'content-type': 'text/html'},
      body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
    },
    false,
  ],
  [
    '200 with an error body',
    {
      kind: 'raw',
      status: 200,
      headers: {'content-type': 'application/json'},
      body: '{"error":{"message":"upstream overloaded","type":"server_error"}}',
    },
    false,
  ],
  [
    'a huge response',
    {
      kind: 'raw',
      status: 200,
      headers: {'content-type': 'application/json'},
      body: `{"id":"x","choices":[],"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`,
    },
    false,
  ],
  [
    'an HTML page instead of a stream',
    {kind: 'raw', status: 200, headers: {'content-type': 'text/html'}, body: '<html>captive portal</html>'},
    true,
  ],
  [
    '200 JSON error instead of a stream',
    {kind: 'raw', status: 200, headers: {'content-type': 'application/json'}, body: '{"error":{"message":"bad"}}'},
    true,
  ],
  ['reset before the first stream byte', {kind: 'destroy'}, true],
]

// Slow headers are not here: a timeout after the request was sent is answered, not resent (timeouts.test.ts).
describe('upstream faults before the first byte fail over', () => {
  for (const [name, behaviour, stream] of BEFORE_FIRST_BYTE) {
    it(name, async () => {
      const faulty = await startOpenAIFake({name: 'faulty', script: {fallback: behaviour}})
      const good = await startOpenAIFake({name: 'good'})
      h.fakes = [faulty, good]
      h.proxy = await startTestProxy(
        {'openai-custom': [openaiInstance(faulty, 'faulty'), openaiInstance(good, 'good')]},
        {config: CONFIG},
      )
      const before = sockets()
      const started = Date.now()
      const response = await chat(h.proxy.url, stream)
      expect(Date.now() - started).toBeLessThan(2500)
      expect(response.status).toBe(200)
      expect(response.headers['x-aiclient-instance']).toBe('good')
      if (stream) expect(parseSse(response.text).events.at(-1)!.data).toBe('[DONE]')
      else expect(response.json().choices[0].message.content).toBe('good: hi')
      const live = h.proxy.state.list('openai-custom').find((l) => l.config.name === 'faulty')!
      expect(live.errorCount).toBe(1)
      expect(live.usageCount).toBe(0)
      await new Promise((r) => setTimeout(r, 50))
      expect(sockets()).toBeLessThanOrEqual(before + 2)
    })
  }

  it('connection refused', async () => {
    const good = await startOpenAIFake({name: 'good'})
    const gone = await startOpenAIFake({name: 'gone'})
    const goneUrl = gone.baseUrl
    await gone.close()
    h.fakes = [good]
    h.proxy = await startTestProxy(
      {'openai-custom': [{...openaiInstance(good, 'gone'), OPENAI_BASE_URL: goneUrl}, openaiInstance(good, 'good')]},
      {config: CONFIG},
    )
    expect((await chat(h.proxy.url)).status).toBe(200)
    expect(h.proxy.state.list('openai-custom')[0]!.errorCount).toBe(1)
  })
})

describe('upstream faults after the first byte end the stream with an error event', () => {
  // A pace longer than the idle timeout is a stall: the events after the first never come in time.
  const cases: Array<[string, Behaviour, number]> = [
    ['reset mid-stream', {kind: 'cut', afterEvents: 3, reply: {text: 'x'.repeat(200), chunkSize: 5}}, 0],
    ['a stalled stream (idle timeout)', {kind: 'reply', reply: {text: 'x'.repeat(50), chunkSize: 5}}, 2000],
  ]
  for (const [name, behaviour, paceMs] of cases) {
    it(name, async () => {
      const fake = await startAnthropicFake({name: 'an', script: {fallback: behaviour}, paceMs})
      h.fakes = [fake]
      h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'an')]}, {config: CONFIG})
      const started = Date.now()
      const response = await post(`${h.proxy.url}/v1/chat/completions`, {
        model: 'm',
        stream: true,
        messages: [{role: 'user', content: 'hi'}],
      })
      expect(Date.now() - started).toBeLessThan(3000)
      expect(response.status).toBe(200)
      const events = parseSse(response.text).events
      expect(JSON.parse(events.at(-1)!.data).error.message).toEqual(expect.any(String))
      expect(events.some((e) => e.data === '[DONE]')).toBe(false)
      expect(h.proxy.state.list('claude-custom')[0]!.errorCount).toBe(1)
    })
  }
})
