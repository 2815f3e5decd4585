import {createServer, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type Behaviour, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

/**
 * A timeout after the upstream took the request (no headers in time, or silence in the middle of the answer) is
 * not a reason to send the request again: the upstream may still be generating it, and billing it. The client gets
 * a timeout in its protocol and no other instance sees the request. A connection that cannot even be made still
 * fails over, as nothing was sent.
 */

let servers: Server[] = []
const h = useProxyHarness()
afterEach(async () => {
  for (const server of servers) server.closeAllConnections()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  servers = []
})

// undici checks these timeouts on a half-second tick: 0.3 s fires within about 1.3 s, well before the answer.
const FAST = {HEADERS_TIMEOUT_SECONDS: 0.3, STREAM_IDLE_TIMEOUT_SECONDS: 0.3}
const SLOW_HEADERS: Behaviour = {kind: 'delay', ms: 2500, then: {kind: 'reply'}}

const openaiChat = (stream = false) => ({model: 'm', stream, messages: [{role: 'user', content: 'hi'}]})

async function twoOpenAI(
  first: Behaviour,
  config: Record<string, unknown> = FAST,
): Promise<[FakeUpstream, FakeUpstream]> {
  const slow = await startOpenAIFake({name: 'slow', script: {fallback: first}})
  const other = await startOpenAIFake({name: 'other'})
  h.fakes = [slow, other]
  h.proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(slow, 'slow'), openaiInstance(other, 'other')]},
    {config},
  )
  return [slow, other]
}

/** An upstream that sends the answer's head (and optionally some body) and then nothing more. */
async function stalling(head: {type: string; body?: string}): Promise<{url: string; count: () => number}> {
  let count = 0
  const server = createServer((req, res: ServerResponse) => {
    count++
    req.resume()
    res.writeHead(200, {'content-type': head.type})
    if (head.body) res.write(head.body)
    else res.flushHeaders()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, count: () => count}
}

describe('a timeout after the request was sent is answered, not resent', () => {
  it('headers later than the headers timeout: one upstream request, a 504, no other instance', async () => {
    const [slow, other] = await twoOpenAI(SLOW_HEADERS)
    const started = Date.now()
    const answer = await post(`${h.proxy!.url}/v1/chat/completions`, openaiChat())
    expect(Date.now() - started).toBeLessThan(2000)
    expect(answer.status).toBe(504)
    expect(answer.headers['x-should-retry']).toBe('false')
    expect(answer.json().error.message).toMatch(
      /The upstream \(slow\) sent no answer for 0\.3 s\. The request was not resent/,
    )
    expect(slow.count).toBe(1)
    expect(other.count).toBe(0)
    // It counts once toward the instance's error streak; a streak of them is an instance that cannot keep up.
    const lives = h.proxy!.state.list('openai-custom')
    expect(lives.map((live) => [live.config.name, live.errorCount])).toEqual([
      ['slow', 1],
      ['other', 0],
    ])
    expect(h.proxy!.records.map((record) => [record.status, record.attempts])).toEqual([[504, 1]])
  })

  it('answers in the client protocol: Anthropic timeout_error, Gemini DEADLINE_EXCEEDED', async () => {
    const slow = await startOpenAIFake({name: 'slow', script: {fallback: SLOW_HEADERS}})
    h.fakes = [slow]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(slow, 'slow')]}, {config: FAST})
    const anthropic = await post(`${h.proxy!.url}/v1/messages`, {
      model: 'm',
      max_tokens: 5,
      messages: [{role: 'user', content: 'hi'}],
    })
    expect([anthropic.status, anthropic.json().error.type]).toEqual([504, 'timeout_error'])
    const gemini = await post(`${h.proxy!.url}/v1beta/models/m:generateContent`, {
      contents: [{role: 'user', parts: [{text: 'hi'}]}],
    })
    expect([gemini.status, gemini.json().error.status]).toEqual([504, 'DEADLINE_EXCEEDED'])
    expect(slow.count).toBe(2)
  })

  it('silence after the headers of a stream, before its first byte: a 504, not resent', async () => {
    const upstream = await stalling({type: 'text/event-stream'})
    const other = await startOpenAIFake({name: 'other'})
    h.fakes = [other]
    h.proxy = await startTestProxy(
      {
        'openai-custom': [
          {...openaiInstance(other, 'stalled'), OPENAI_BASE_URL: upstream.url},
          openaiInstance(other, 'other'),
        ],
      },
      {config: FAST},
    )
    const answer = await post(`${h.proxy.url}/v1/chat/completions`, openaiChat(true))
    expect(answer.status).toBe(504)
    expect(answer.json().error.message).toMatch(/went quiet for 0\.3 s in the middle of its answer/)
    expect([upstream.count(), other.count]).toEqual([1, 0])
  })

  it('silence in the middle of a plain answer: a 504, not resent', async () => {
    const upstream = await stalling({type: 'application/json', body: '{"id":"chatcmpl-1","choices":['})
    const other = await startOpenAIFake({name: 'other'})
    h.fakes = [other]
    h.proxy = await startTestProxy(
      {
        'openai-custom': [
          {...openaiInstance(other, 'stalled'), OPENAI_BASE_URL: upstream.url},
          openaiInstance(other, 'other'),
        ],
      },
      {config: FAST},
    )
    const answer = await post(`${h.proxy.url}/v1/chat/completions`, openaiChat())
    expect(answer.status).toBe(504)
    expect([upstream.count(), other.count]).toEqual([1, 0])
  })

  it('still fails over when nothing was sent: a refused connection reaches the other instance', async () => {
    const gone = await startOpenAIFake({name: 'gone'})
    const goneUrl = gone.baseUrl
    await gone.close()
    const other = await startOpenAIFake({name: 'other'})
    h.fakes = [other]
    h.proxy = await startTestProxy(
      {'openai-custom': [{...openaiInstance(other, 'gone'), OPENAI_BASE_URL: goneUrl}, openaiInstance(other, 'other')]},
      {config: FAST},
    )
    const answer = await post(`${h.proxy.url}/v1/chat/completions`, openaiChat())
    expect(answer.status).toBe(200)
    expect(answer.headers['x-aiclient-instance']).toBe('other')
    expect(other.count).toBe(1)
  })
})

describe('timeouts per provider type', () => {
  it('a slow answer within its own type`s timeout succeeds while another type times out', async () => {
    const openai = await startOpenAIFake({name: 'oa', script: {fallback: SLOW_HEADERS}})
    const claude = await startAnthropicFake({name: 'an', script: {fallback: SLOW_HEADERS}})
    h.fakes = [openai, claude]
    h.proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(openai, 'oa')], 'claude-custom': [claudeInstance(claude, 'an')]},
      {config: {HEADERS_TIMEOUT_SECONDS: {default: 0.3, 'claude-custom': 5}}},
    )
    const [toOpenAI, toClaude] = await Promise.all([
      post(`${h.proxy.url}/openai-custom/v1/chat/completions`, openaiChat()),
      post(`${h.proxy.url}/claude-custom/v1/chat/completions`, openaiChat()),
    ])
    expect(toOpenAI.status).toBe(504)
    expect(toClaude.status).toBe(200)
    expect(toClaude.json().choices[0].message.content).toBe('an: hi')
    expect([openai.count, claude.count]).toEqual([1, 1])
  })

  it('the default gives a slow answer the time it needs', async () => {
    const [slow, other] = await twoOpenAI(SLOW_HEADERS, {})
    const answer = await post(`${h.proxy!.url}/v1/chat/completions`, openaiChat())
    expect(answer.status).toBe(200)
    expect(answer.headers['x-aiclient-instance']).toBe('slow')
    expect([slow.count, other.count]).toEqual([1, 0])
  })
})
