import {describe, expect, it} from 'vitest'
import {
  parseSse,
  startAnthropicFake,
  startOpenAIFake,
  type Behaviour,
  type FakeUpstream,
  type RecordedRequest,
} from '../fakes/index.js'
import {FALLBACK_MODELS} from '../../src/core/providers/models.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness({failOnUnhandledRejection: true})

const MB = 1024 * 1024
/** Far more than the proxy may hold: it must stop reading long before the fake has written it all. */
const FLOOD = 128 * MB
/** What the sockets' buffers and one read may hold on top of the limit. */
const BOUNDED = 16 * MB
const CONFIG = {STREAM_EVENT_LIMIT_MB: 1, ERROR_BODY_LIMIT_MB: 0.5, RESPONSE_BODY_LIMIT_MB: 1}

const chunk = (delta: Record<string, unknown>) =>
  `data: ${JSON.stringify({id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{index: 0, delta, finish_reason: null}]})}\n\n`
/** An SSE line that never ends, after `events` complete ones. */
const endlessLine = (events = ''): Behaviour => ({
  kind: 'flood',
  bytes: FLOOD,
  prefix: `${events}data: {"id":"c1","choices":[{"index":0,"delta":{"content":"`,
})
const messages = (stream: boolean) =>
  post(
    `${h.proxy!.url}/openai-custom/v1/messages`,
    {model: 'm', max_tokens: 20, stream, messages: [{role: 'user', content: 'hi'}]},
    {'anthropic-version': '2023-06-01'},
  )

/** The proxy stopped reading and closed the connection: promptly, and long before the fake could write it all. */
async function expectClosedEarly(fake: FakeUpstream, request: () => RecordedRequest | undefined): Promise<void> {
  await fake.waitFor(() => request()?.outcome === 'aborted', 2000)
  expect(request()!.written).toBeLessThan(BOUNDED)
}

async function pair(faulty: Behaviour) {
  const flood = await startOpenAIFake({name: 'flood', script: {fallback: faulty}})
  const good = await startOpenAIFake({name: 'good'})
  h.fakes = [flood, good]
  h.proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(flood, 'flood'), openaiInstance(good, 'good')]},
    {config: CONFIG},
  )
  return {flood, good, live: () => h.proxy!.state.list('openai-custom')[0]!}
}

describe('one event of a converted stream is bounded', () => {
  it('an endless first line fails over, and the upstream is closed', async () => {
    const {flood, live} = await pair(endlessLine())
    const started = Date.now()
    const answer = await messages(true)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(answer.status).toBe(200)
    expect(answer.headers['x-aiclient-instance']).toBe('good')
    expect(parseSse(answer.text).events.at(-1)!.event).toBe('message_stop')
    await expectClosedEarly(flood, () => flood.requests[0])
    expect(live().errorCount).toBe(1)
  })

  it('an endless line mid-stream ends the client stream with the protocol error event', async () => {
    const {flood, live} = await pair(endlessLine(chunk({role: 'assistant', content: 'hel'}) + chunk({content: 'lo'})))
    const answer = await messages(true)
    expect(answer.status).toBe(200)
    expect(answer.headers['x-aiclient-instance']).toBe('flood')
    const events = parseSse(answer.text).events
    expect(events.some((e) => e.event === 'content_block_delta' && JSON.parse(e.data).delta.text === 'hel')).toBe(true)
    expect(events.at(-1)!.event).toBe('error')
    expect(JSON.parse(events.at(-1)!.data).error.message).toMatch(/longer than the limit of 1 MB/)
    expect(events.some((e) => e.event === 'message_stop')).toBe(false)
    await expectClosedEarly(flood, () => flood.requests[0])
    expect(live().errorCount).toBe(1)
  })
})

describe('upstream error bodies are bounded', () => {
  it('an endless error body is read to its limit only, and the request fails over', async () => {
    const {flood, live} = await pair({
      kind: 'flood',
      bytes: FLOOD,
      status: 500,
      headers: {'content-type': 'application/json'},
    })
    const answer = await messages(false)
    expect(answer.status).toBe(200)
    expect(answer.headers['x-aiclient-instance']).toBe('good')
    await expectClosedEarly(flood, () => flood.requests[0])
    expect(live().errorCount).toBe(1)
  })

  it('an endless HTML page where a stream was asked for', async () => {
    const {flood} = await pair({kind: 'flood', bytes: FLOOD, headers: {'content-type': 'text/html'}})
    expect((await messages(true)).headers['x-aiclient-instance']).toBe('good')
    await expectClosedEarly(flood, () => flood.requests[0])
  })

  it('endless answers to a token count and a model list: the estimate and the built-in list serve instead', async () => {
    const endless: Behaviour = {
      kind: 'flood',
      bytes: FLOOD,
      headers: {'content-type': 'application/json'},
      prefix: '{"data":[{"id":"',
    }
    const fake = await startAnthropicFake({name: 'an', script: {aux: () => endless}})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'an')]}, {config: CONFIG})
    const counted = await post(
      `${h.proxy.url}/v1/messages/count_tokens`,
      {model: 'm', messages: [{role: 'user', content: 'hi'}]},
      {'anthropic-version': '2023-06-01'},
    )
    expect(counted.headers['x-aiclient-token-count']).toBe('estimate')
    await expectClosedEarly(fake, () => fake.calls('count_tokens')[0])
    const models = await get(`${h.proxy.url}/v1/models`, {'anthropic-version': '2023-06-01'})
    expect(models.json().data.map((m: {id: string}) => m.id)).toEqual(FALLBACK_MODELS['claude-custom'])
    await expectClosedEarly(fake, () => fake.calls('models')[0])
  })

  it('a health probe answered with an endless error body', async () => {
    const fake = await startOpenAIFake({
      name: 'probed',
      script: {fallback: {kind: 'flood', bytes: FLOOD, status: 503, headers: {'content-type': 'application/json'}}},
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'probed')]}, {config: CONFIG})
    const result = await h.proxy.monitor.probeNow(h.proxy.state.list()[0]!)
    expect(result).toMatchObject({healthy: false, reason: 'server', status: 503})
    await expectClosedEarly(fake, () => fake.requests[0])
  })
})
