import {describe, expect, it} from 'vitest'
import {startOpenAIFake} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, waitFor, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

const chat = (url: string, content = 'hi') =>
  post(`${url}/v1/chat/completions`, {model: 'gpt-test', messages: [{role: 'user', content}]})

describe('failover and health', () => {
  it('100 requests succeed over a broken, a rate-limited and a good instance; counters match the fakes', async () => {
    const broken = await startOpenAIFake({name: 'broken', script: {fallback: {kind: 'status', status: 500}}})
    const limitedCalls: number[] = []
    const limited = await startOpenAIFake({
      name: 'limited',
      script: {
        handler: (_req, n) => {
          limitedCalls.push(Date.now())
          return n === 0 ? {kind: 'status', status: 429, retryAfter: 2} : undefined
        },
      },
    })
    const good = await startOpenAIFake({name: 'good'})
    h.fakes = [broken, limited, good]
    // The pool's clock stands still unless the test moves it: the Retry-After rest passes when the test says.
    let clock = Date.now()
    const pools = {
      'openai-custom': [
        openaiInstance(broken, 'broken'),
        openaiInstance(limited, 'limited'),
        openaiInstance(good, 'good'),
      ],
    }
    h.proxy = await startTestProxy(pools, {now: () => clock})
    const url = h.proxy.url

    const results = []
    let afterFirstBatch = 0
    for (let batch = 0; batch < 10; batch++) {
      results.push(...(await Promise.all(Array.from({length: 10}, () => chat(url)))))
      if (batch === 0) afterFirstBatch = limitedCalls.length
    }
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(200))

    const live = (name: string) => h.proxy!.state.list('openai-custom').find((l) => l.config.name === name)!
    expect(live('broken').healthy).toBe(false)
    expect(live('broken').reason).toBe('server error 500')
    expect(broken.count).toBeGreaterThanOrEqual(3)
    expect(limited.requests[0]!.status).toBe(429)

    // The rate-limited instance rests for Retry-After: the 429 came in the first batch, which may have sent it a few
    // requests at once, and none of the 90 requests after it went there. Then it takes traffic again.
    expect(afterFirstBatch).toBeGreaterThanOrEqual(1)
    expect(limitedCalls.length).toBe(afterFirstBatch)
    expect(h.proxy.state.stateOf(live('limited'))).toBe('cooling')
    clock += 1999
    expect((await chat(url)).status).toBe(200)
    expect(limitedCalls.length).toBe(afterFirstBatch)
    clock += 1
    for (let i = 0; i < 4; i++) expect((await chat(url)).status).toBe(200)
    expect(limitedCalls.length).toBeGreaterThan(afterFirstBatch)

    await h.proxy.stop()
    const pool = await h.proxy.readPool()
    const stored = (name: string) => pool['openai-custom']!.find((i) => i.customName === name)!
    for (const fake of h.fakes) expect(stored(fake.name).usageCount, fake.name).toBe(fake.completed)
    expect(stored('broken').errorCount).toBe(broken.requests.filter((r) => r.status === 500).length)
    expect(stored('broken').isHealthy).toBe(false)
    expect(stored('broken').lastErrorReason).toBe('server error 500')
    expect(stored('limited').errorCount).toBe(0)
    expect(stored('good').lastUsed).toEqual(expect.any(String))
  }, 30_000)

  it('never tries the same instance twice and stops after 3 attempts', async () => {
    h.fakes = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => startOpenAIFake({name, script: {fallback: {kind: 'status', status: 503}}})),
    )
    h.proxy = await startTestProxy({'openai-custom': h.fakes.map((f) => openaiInstance(f, f.name))})
    const response = await chat(h.proxy.url)
    expect(response.status).toBe(502)
    expect(response.json().error.message).toMatch(/All 3 attempts failed/)
    expect(h.fakes.map((f) => f.count).sort()).toEqual([0, 1, 1, 1])
  })

  it('401 marks a key instance unhealthy with reason auth and fails over', async () => {
    const denied = await startOpenAIFake({name: 'denied', keys: ['another-key-entirely']})
    const good = await startOpenAIFake({name: 'good'})
    h.fakes = [denied, good]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(denied, 'denied'), openaiInstance(good, 'good')]})
    expect((await chat(h.proxy.url)).status).toBe(200)
    const live = h.proxy.state.list('openai-custom').find((l) => l.config.name === 'denied')!
    expect(live.healthy).toBe(false)
    expect(live.reason).toBe('auth')
    await waitFor(
      async () => (await h.proxy!.readPool())['openai-custom']![0]!.lastErrorReason === 'auth',
      3000,
      'auth persisted',
    )
  })

  it('client faults pass through, are not counted, and do not fail over', async () => {
    const rejecting = await startOpenAIFake({
      name: 'rejecting',
      script: {fallback: {kind: 'status', status: 400, message: 'messages: bad shape'}},
    })
    const good = await startOpenAIFake({name: 'good'})
    h.fakes = [rejecting, good]
    h.proxy = await startTestProxy({
      'openai-custom': [openaiInstance(rejecting, 'rejecting'), openaiInstance(good, 'good')],
    })
    const response = await chat(h.proxy.url)
    expect(response.status).toBe(400)
    expect(response.json().error.message).toBe('messages: bad shape')
    expect(good.count).toBe(0)
    const live = h.proxy.state.list('openai-custom')[0]!
    expect(live.errorCount).toBe(0)
    expect(live.healthy).toBe(true)
  })

  it('three errors within the window make an instance unhealthy; a success resets the streak', async () => {
    const flaky = await startOpenAIFake({
      name: 'flaky',
      script: {
        queue: [
          {kind: 'status', status: 500},
          {kind: 'status', status: 500},
          {kind: 'reply'},
          {kind: 'status', status: 500},
          {kind: 'status', status: 500},
        ],
      },
    })
    h.fakes = [flaky]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(flaky, 'flaky')]}, {maxAttempts: 1})
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await chat(h.proxy.url)).status)
    expect(statuses).toEqual([502, 502, 200, 502, 502])
    const live = h.proxy.state.list('openai-custom')[0]!
    expect(live.healthy).toBe(true)
    expect(live.errorCount).toBe(4)
  })

  it('a connection refused fails over and counts as an error', async () => {
    const good = await startOpenAIFake({name: 'good'})
    const gone = await startOpenAIFake({name: 'gone'})
    const goneUrl = gone.baseUrl
    await gone.close()
    h.fakes = [good]
    h.proxy = await startTestProxy({
      'openai-custom': [{...openaiInstance(good, 'gone'), OPENAI_BASE_URL: goneUrl}, openaiInstance(good, 'good')],
    })
    expect((await chat(h.proxy.url)).status).toBe(200)
    const live = h.proxy.state.list('openai-custom').find((l) => l.config.name === 'gone')!
    expect(live.errorCount).toBe(1)
    expect(live.lastErrorTime).not.toBeNull()
  })
})
