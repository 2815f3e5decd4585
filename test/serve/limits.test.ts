import {describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, useProxyHarness, waitFor} from '../helpers/proxy.js'

const h = useProxyHarness()

const message = {role: 'user', content: 'hi'}
const chat = (url: string, model = 'gpt-test') =>
  post(`${url}/openai-custom/v1/chat/completions`, {model, messages: [message]})
const anthropic = (url: string, model = 'gpt-test') =>
  post(`${url}/openai-custom/v1/messages`, {model, max_tokens: 16, messages: [message]})
const gemini = (url: string, model = 'gpt-test') =>
  post(`${url}/openai-custom/v1beta/models/${model}:generateContent`, {
    contents: [{role: 'user', parts: [{text: 'hi'}]}],
  })

/** A fake that answers every model call `ms` late and keeps the most requests it ever had open at once. */
async function slowFake(name: string, ms: number) {
  const peak = {inFlight: 0}
  const fake: FakeUpstream = await startOpenAIFake({
    name,
    script: {
      handler: () => {
        // The request being handled is already recorded as pending, so this counts it too.
        const open = fake.requests.filter((r) => r.outcome === 'pending').length
        peak.inFlight = Math.max(peak.inFlight, open)
        return {kind: 'delay', ms, then: {kind: 'reply'}}
      },
    },
  })
  h.fakes.push(fake)
  return {fake, peak}
}

describe('concurrency limits through the proxy', () => {
  it('never has more than concurrencyLimit requests at the upstream, and the rest wait their turn', async () => {
    const {fake, peak} = await slowFake('slow', 150)
    h.proxy = await startTestProxy({
      'openai-custom': [{...openaiInstance(fake, 'slow'), concurrencyLimit: 2, queueLimit: 10}],
    })
    const answers = await Promise.all(Array.from({length: 10}, () => chat(h.proxy!.url)))
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200))
    expect(fake.completed).toBe(10)
    expect(peak.inFlight).toBe(2)
  })

  it('turns away a request the full queue has no room for, in the client protocol, saying why', async () => {
    const {fake} = await slowFake('slow', 400)
    h.proxy = await startTestProxy({
      'openai-custom': [{...openaiInstance(fake, 'slow'), concurrencyLimit: 1, queueLimit: 1}],
    })
    const held = [chat(h.proxy.url), chat(h.proxy.url)]
    await waitFor(() => fake.count === 1)
    const refused = await Promise.all([chat(h.proxy.url), anthropic(h.proxy.url), gemini(h.proxy.url)])
    expect(refused.map((a) => a.status)).toEqual([429, 429, 429])
    const why =
      'The one openai-custom instance that can serve it is at its concurrency limit; the queue is full (1 waiting). Retry later.'
    expect(refused[0]!.json().error).toMatchObject({code: 'rate_limit_exceeded', message: why})
    expect(refused[1]!.json()).toMatchObject({type: 'error', error: {type: 'rate_limit_error', message: why}})
    expect(refused[2]!.json().error).toMatchObject({code: 429, status: 'RESOURCE_EXHAUSTED', message: why})
    // The two that got in (one served, one queued) are both answered.
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200])
    expect(fake.count).toBe(2)
  })

  it('answers 429 when the wait in the queue runs out', async () => {
    const {fake} = await slowFake('slow', 1500)
    h.proxy = await startTestProxy(
      {'openai-custom': [{...openaiInstance(fake, 'slow'), concurrencyLimit: 1, queueLimit: 5}]},
      {config: {QUEUE_TIMEOUT_SECONDS: 0.3}},
    )
    const held = chat(h.proxy.url)
    await waitFor(() => fake.count === 1)
    const started = Date.now()
    const waited = await chat(h.proxy.url)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(waited.status).toBe(429)
    expect(waited.json().error.message).toBe(
      'The one openai-custom instance that can serve it is at its concurrency limit; waited 0.3s in the queue without a free slot. Retry later.',
    )
    expect((await held).status).toBe(200)
    expect(fake.count).toBe(1)
  })

  it('a client that leaves the queue gives its place to the next one', async () => {
    const {fake} = await slowFake('slow', 400)
    h.proxy = await startTestProxy({
      'openai-custom': [{...openaiInstance(fake, 'slow'), concurrencyLimit: 1, queueLimit: 1}],
    })
    const held = chat(h.proxy.url)
    await waitFor(() => fake.count === 1)
    const leaving = new AbortController()
    const gone = fetch(`${h.proxy.url}/openai-custom/v1/chat/completions`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({model: 'gpt-test', messages: [message]}),
      signal: leaving.signal,
    }).catch(() => 'aborted')
    await waitFor(() => h.proxy!.state.waiting('openai-custom') === 1)
    leaving.abort()
    expect(await gone).toBe('aborted')
    await waitFor(() => h.proxy!.state.waiting('openai-custom') === 0)
    const next = chat(h.proxy.url)
    expect([(await held).status, (await next).status]).toEqual([200, 200])
    // The one that left never reached the upstream.
    expect(fake.count).toBe(2)
  })

  it('a request waiting for a full instance is served by another the moment its cooldown ends', async () => {
    let refuseNext = true
    const rests = await startOpenAIFake({
      name: 'rests',
      script: {
        handler: () => {
          if (!refuseNext) return undefined
          refuseNext = false
          return {kind: 'status', status: 429, retryAfter: 1}
        },
      },
    })
    h.fakes.push(rests)
    const {fake: slow} = await slowFake('slow', 4000)
    h.proxy = await startTestProxy({
      'openai-custom': [
        openaiInstance(rests, 'rests'),
        {...openaiInstance(slow, 'slow'), concurrencyLimit: 1, queueLimit: 2},
      ],
    })
    // The first goes to `rests`, which asks for a one-second rest, and then holds `slow`'s one slot for 4 s.
    const held = chat(h.proxy.url)
    await waitFor(() => slow.count === 1 && rests.count === 1)
    const started = Date.now()
    const waiting = await chat(h.proxy.url)
    expect(waiting.status).toBe(200)
    expect(waiting.headers['x-aiclient-instance']).toBe('rests')
    expect(Date.now() - started).toBeLessThan(3000)
    expect(slow.completed).toBe(0)
    expect((await held).status).toBe(200)
  }, 10_000)
})

describe('model lists through the proxy', () => {
  it('send each model to the instances that serve it, and refuse one that none serves', async () => {
    const [mini, rest] = await Promise.all([startOpenAIFake({name: 'mini'}), startOpenAIFake({name: 'rest'})])
    h.fakes.push(mini, rest)
    h.proxy = await startTestProxy({
      'openai-custom': [
        {...openaiInstance(mini, 'mini'), supportedModels: ['gpt-4o-mini*']},
        {...openaiInstance(rest, 'rest'), notSupportedModels: ['gpt-4o-mini*', 'o1']},
      ],
    })
    for (let n = 0; n < 2; n++) expect((await chat(h.proxy.url, 'gpt-4o-mini')).status).toBe(200)
    for (let n = 0; n < 2; n++) expect((await chat(h.proxy.url, 'gpt-4o')).status).toBe(200)
    expect(mini.calls('chat.completions').map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini'])
    expect(rest.calls('chat.completions').map((r) => r.model)).toEqual(['gpt-4o', 'gpt-4o'])

    const why =
      "No openai-custom instance serves the model o1: each one's supportedModels or notSupportedModels in the pool file leaves it out."
    const refused = await chat(h.proxy.url, 'o1')
    expect(refused.status).toBe(404)
    expect(refused.json().error.message).toBe(why)
    const claude = await anthropic(h.proxy.url, 'o1')
    expect(claude.status).toBe(404)
    expect(claude.json()).toMatchObject({type: 'error', error: {type: 'not_found_error', message: why}})
    expect(mini.count + rest.count).toBe(4)
  })

  it('a type whose model lists leave the model out passes the request on to its fallback type', async () => {
    const [mini, claude] = await Promise.all([startOpenAIFake({name: 'mini'}), startAnthropicFake({name: 'claude'})])
    h.fakes.push(mini, claude)
    h.proxy = await startTestProxy(
      {
        'openai-custom': [{...openaiInstance(mini, 'mini'), supportedModels: ['gpt-4o-mini']}],
        'claude-custom': [claudeInstance(claude, 'team')],
      },
      {config: {providerFallbackChain: {'openai-custom': ['claude-custom']}}},
    )
    expect((await chat(h.proxy.url, 'claude-sonnet-4-6')).status).toBe(200)
    expect((await chat(h.proxy.url, 'gpt-4o-mini')).status).toBe(200)
    expect(claude.calls('messages').map((r) => r.model)).toEqual(['claude-sonnet-4-6'])
    expect(mini.calls('chat.completions').map((r) => r.model)).toEqual(['gpt-4o-mini'])
  })
})
