import {describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake} from '../fakes/index.js'
import {resetInstances} from '../../src/core/pools/operations.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy, waitFor, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

/** The proxy's clock: cooldowns end when the test says so, not after a real wait. */
let clock = 0
const now = () => clock
const chat = () => post(`${h.proxy!.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
const message = () =>
  post(
    `${h.proxy!.url}/v1/messages`,
    {model: 'm', max_tokens: 5, messages: [{role: 'user', content: 'hi'}]},
    {'anthropic-version': '2023-06-01'},
  )

describe('side requests after a cooldown take no half-open trial', () => {
  it('a model list: the instance keeps serving chat', async () => {
    clock = Date.now()
    const fake = await startOpenAIFake({name: 'solo', script: {queue: [{kind: 'status', status: 429, retryAfter: 1}]}})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'solo')]}, {now})
    expect((await chat()).status).toBe(429)
    clock += 2000
    expect((await get(`${h.proxy.url}/v1/models`)).status).toBe(200)
    expect(fake.calls('models')).toHaveLength(1)
    expect((await get(`${h.proxy.url}/health`)).json().types['openai-custom']).toEqual({healthy: 1, total: 1})
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200)
  })

  it('a token count: the instance keeps serving messages', async () => {
    clock = Date.now()
    const fake = await startAnthropicFake({
      name: 'solo',
      script: {queue: [{kind: 'status', status: 429, retryAfter: 1}]},
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'solo')]}, {now})
    expect((await message()).status).toBe(429)
    clock += 2000
    const counted = await post(
      `${h.proxy.url}/v1/messages/count_tokens`,
      {model: 'm', messages: [{role: 'user', content: 'hi'}]},
      {'anthropic-version': '2023-06-01'},
    )
    expect(counted.headers['x-aiclient-token-count']).toBe('upstream')
    for (let i = 0; i < 3; i++) expect((await message()).status).toBe(200)
  })

  it('the trial itself still goes to one request at a time', async () => {
    clock = Date.now()
    const fake = await startOpenAIFake({
      name: 'cooled',
      script: {
        queue: [
          {kind: 'status', status: 429, retryAfter: 1},
          {kind: 'delay', ms: 300, then: {kind: 'reply'}},
        ],
      },
    })
    const steady = await startOpenAIFake({name: 'steady'})
    h.fakes = [fake, steady]
    h.proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(fake, 'cooled'), openaiInstance(steady, 'steady')]},
      {now},
    )
    expect((await chat()).status).toBe(200)
    clock += 2000
    await get(`${h.proxy.url}/v1/models`)
    const burst = await Promise.all(Array.from({length: 6}, () => chat()))
    expect(burst.map((r) => r.status)).toEqual(Array(6).fill(200))
    expect(fake.calls('chat.completions')).toHaveLength(2)
  })
})

describe('an outside reset ends a cooldown while serving', () => {
  it('`pool reset` puts a resting instance back into rotation', async () => {
    const fake = await startOpenAIFake({
      name: 'rested',
      script: {queue: [{kind: 'status', status: 429, retryAfter: 600}]},
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'rested')]})
    expect((await chat()).status).toBe(429)
    await waitFor(
      async () => typeof (await h.proxy!.readPool())['openai-custom']![0]!.cooldownUntil === 'string',
      3000,
      'the cooldown on disk',
    )
    expect((await chat()).status).toBe(429)
    await resetInstances(h.proxy.store, 'rested')
    await waitFor(
      () => h.proxy!.state.stateOf(h.proxy!.state.list('openai-custom')[0]!) === 'healthy',
      3000,
      'the reset to be seen',
    )
    expect((await chat()).status).toBe(200)
  })
})
