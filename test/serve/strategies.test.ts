import {describe, expect, it} from 'vitest'
import {startOpenAIFake} from '../fakes/index.js'
import {setRouting} from '../../src/core/pools/operations.js'
import {openaiInstance, post, startTestProxy, useProxyHarness, waitFor} from '../helpers/proxy.js'

const h = useProxyHarness()

const chat = (url: string) =>
  post(`${url}/openai-custom/v1/chat/completions`, {model: 'gpt-test', messages: [{role: 'user', content: 'hi'}]})

/** Sends `count` requests one after another; every one must succeed. */
async function send(url: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) expect((await chat(url)).status).toBe(200)
}

/** Two fakes, the first of which answers its first model call with a 429 asking for a 2 s rest. */
async function limitedAndSpare() {
  const first = await startOpenAIFake({
    name: 'first',
    script: {handler: (_req, n) => (n === 3 ? {kind: 'status', status: 429, retryAfter: 2} : undefined)},
  })
  const second = await startOpenAIFake({name: 'second'})
  h.fakes = [first, second]
  return {first, second}
}

describe('routing strategies through the proxy', () => {
  it('fill-first keeps to the first instance, moves on while it rests, and returns when it can', async () => {
    const {first, second} = await limitedAndSpare()
    let clock = Date.now()
    h.proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(first, 'first'), openaiInstance(second, 'second')]},
      {config: {ROUTING_STRATEGY: {'openai-custom': 'fill-first'}}, now: () => clock},
    )
    await send(h.proxy.url, 3)
    expect([first.completed, second.count]).toEqual([3, 0])
    // The fourth is refused with a 429 and served by the second, which takes everything while the first rests.
    await send(h.proxy.url, 3)
    expect(first.requests.map((r) => r.status)).toEqual([200, 200, 200, 429])
    expect(second.completed).toBe(3)
    clock += 2000
    await send(h.proxy.url, 3)
    expect([first.completed, second.completed]).toEqual([6, 3])
  })

  it('the default round-robin alternates over the same pool', async () => {
    const [first, second] = await Promise.all([startOpenAIFake({name: 'first'}), startOpenAIFake({name: 'second'})])
    h.fakes = [first, second]
    h.proxy = await startTestProxy({
      'openai-custom': [openaiInstance(first, 'first'), openaiInstance(second, 'second')],
    })
    await send(h.proxy.url, 4)
    expect([first.completed, second.completed]).toEqual([2, 2])
  })

  it('a lower priority tier serves only while the higher one cannot', async () => {
    const {first: main, second: backup} = await limitedAndSpare()
    let clock = Date.now()
    // The backup comes first in the file, so only its priority keeps it out of round-robin.
    h.proxy = await startTestProxy(
      {
        'openai-custom': [
          {...openaiInstance(backup, 'backup'), priority: 0},
          {...openaiInstance(main, 'main'), priority: 10},
        ],
      },
      {now: () => clock},
    )
    await send(h.proxy.url, 3)
    expect([main.completed, backup.count]).toEqual([3, 0])
    await send(h.proxy.url, 2)
    expect(main.requests.map((r) => r.status)).toEqual([200, 200, 200, 429])
    expect(backup.completed).toBe(2)
    clock += 2000
    await send(h.proxy.url, 3)
    expect([main.completed, backup.completed]).toEqual([6, 2])
  })

  it('a priority written with pool set while serving moves the traffic within a moment', async () => {
    const [first, second] = await Promise.all([startOpenAIFake({name: 'first'}), startOpenAIFake({name: 'second'})])
    h.fakes = [first, second]
    h.proxy = await startTestProxy({
      'openai-custom': [openaiInstance(first, 'first'), openaiInstance(second, 'second')],
    })
    await setRouting(h.proxy.store, 'second', {priority: 1})
    const live = h.proxy.state.list('openai-custom').find((l) => l.config.name === 'second')!
    await waitFor(() => live.config.priority === 1)
    const before = first.count
    await send(h.proxy.url, 4)
    expect([first.count - before, second.completed]).toEqual([0, 4])
  })
})

it('with every healthy instance at weight 0, the weighted strategy answers 503 saying so', async () => {
  const only = await startOpenAIFake({name: 'only'})
  h.fakes = [only]
  h.proxy = await startTestProxy(
    {'openai-custom': [{...openaiInstance(only, 'only'), weight: 0}]},
    {config: {ROUTING_STRATEGY: 'weighted'}},
  )
  const refused = await chat(h.proxy.url)
  expect(refused.status).toBe(503)
  expect(refused.json().error.message).toBe(
    'No usable openai-custom instance: 0 unhealthy, 0 disabled, 1 healthy with weight 0, which keeps it out of the weighted rotation (`aiclient pool set NAME --weight 1` brings one back).',
  )
  expect(only.count).toBe(0)
  // Positive control: the weight the message names brings the instance back.
  await setRouting(h.proxy.store, 'only', {weight: 1})
  await waitFor(() => h.proxy!.state.list('openai-custom')[0]!.config.weight === 1)
  expect((await chat(h.proxy.url)).status).toBe(200)
})
