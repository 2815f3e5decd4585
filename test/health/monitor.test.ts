import {describe, expect, it} from 'vitest'
import {startOpenAIFake} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, waitFor, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

const chat = () => post(`${h.proxy!.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
const probeConfig = {HEALTH_PROBE_INITIAL_SECONDS: 0.3, HEALTH_PROBE_MAX_SECONDS: 1}

describe('health inside serve', () => {
  it('an instance unhealthy in the file is probed after start and comes back when its upstream recovers', async () => {
    let down = true
    const fake = await startOpenAIFake({
      name: 'rec',
      script: {handler: () => (down ? {kind: 'status', status: 503} : undefined)},
    })
    const other = await startOpenAIFake({name: 'other'})
    h.fakes = [fake, other]
    h.proxy = await startTestProxy(
      {
        'openai-custom': [
          {...openaiInstance(fake, 'rec'), isHealthy: false, lastErrorReason: 'server'},
          openaiInstance(other, 'other'),
        ],
      },
      {config: probeConfig},
    )
    const live = () => h.proxy!.state.list('openai-custom')[0]!
    await waitFor(() => fake.count >= 1, 2000, 'the first probe')
    expect(live().healthy).toBe(false)
    down = false
    const recoveredAt = Date.now()
    await waitFor(() => live().healthy, 3000, 'recovery')
    // The probe interval doubles from 0.3 s; recovery comes at the next probe, well within the 1 s cap.
    expect(Date.now() - recoveredAt).toBeLessThan(1500)
    await waitFor(
      async () => (await h.proxy!.readPool())['openai-custom']![0]!.isHealthy === true,
      2000,
      'persisted recovery',
    )
    for (let i = 0; i < 4; i++) await chat()
    expect(fake.completed).toBeGreaterThanOrEqual(3)
  })

  it('an instance that fails in traffic is probed and brought back', async () => {
    let broken = true
    const fake = await startOpenAIFake({
      name: 'flip',
      script: {handler: () => (broken ? {kind: 'status', status: 500} : undefined)},
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(fake, 'flip')]},
      {config: probeConfig, maxAttempts: 1},
    )
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(502)
    expect(h.proxy.state.list('openai-custom')[0]!.healthy).toBe(false)
    expect((await chat()).status).toBe(503)
    broken = false
    await waitFor(() => h.proxy!.state.list('openai-custom')[0]!.healthy, 3000, 'recovery')
    expect((await chat()).status).toBe(200)
  })

  it('never probes a disabled instance', async () => {
    const [off, offHealthy, down, up] = await Promise.all(
      ['off', 'off-healthy', 'down', 'up'].map((name) => startOpenAIFake({name})),
    )
    h.fakes = [off!, offHealthy!, down!, up!]
    // The disabled ones come first, so their probes would be due no later than those of the enabled ones beside them.
    const pools = {
      'openai-custom': [
        {...openaiInstance(off!, 'off'), isHealthy: false, isDisabled: true},
        {...openaiInstance(offHealthy!, 'off-healthy'), isDisabled: true},
        {...openaiInstance(down!, 'down'), isHealthy: false},
        openaiInstance(up!, 'up'),
      ],
    }
    h.proxy = await startTestProxy(pools, {config: {...probeConfig, HEALTH_CHECK_INTERVAL_SECONDS: 0.2}})
    // Both kinds of probe have run: the one that brings an unhealthy instance back, and the periodic one, twice.
    await waitFor(() => down!.count >= 1 && up!.count >= 2, 3000, 'probes of the enabled instances')
    expect(off!.count).toBe(0)
    expect(offHealthy!.count).toBe(0)
  })

  it('probes healthy instances only when a periodic interval is set', async () => {
    const fake = await startOpenAIFake({name: 'on'})
    h.fakes = [fake]
    h.proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(fake, 'on')]},
      {config: {...probeConfig, HEALTH_CHECK_INTERVAL_SECONDS: 0.2}},
    )
    await waitFor(() => fake.count >= 2, 2000, 'periodic probes')
    expect(fake.requests[0]!.body).toMatchObject({max_tokens: 1})
  })

  it('a cooled-down instance takes a single trial request before full traffic', async () => {
    let phase: 'limit' | 'trial' | 'open' = 'limit'
    const cooled = await startOpenAIFake({
      name: 'cooled',
      script: {
        handler: () => {
          if (phase === 'limit') return {kind: 'status', status: 429, retryAfter: 1}
          if (phase === 'trial') {
            phase = 'open'
            return {kind: 'delay', ms: 400, then: {kind: 'reply'}}
          }
          return undefined
        },
      },
    })
    const steady = await startOpenAIFake({name: 'steady'})
    h.fakes = [cooled, steady]
    let skipped = 0
    h.proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(cooled, 'cooled'), openaiInstance(steady, 'steady')]},
      {now: () => Date.now() + skipped},
    )
    expect((await chat()).status).toBe(200)
    expect(cooled.count).toBe(1)
    phase = 'trial'
    // The Retry-After second passes on the pool's clock.
    skipped += 1000
    // Ten requests at once: exactly one goes to the instance whose cooldown just ended.
    const burst = await Promise.all(Array.from({length: 10}, () => chat()))
    expect(burst.every((r) => r.status === 200)).toBe(true)
    expect(cooled.count).toBe(2)
    expect(steady.completed).toBe(10)
    // The trial succeeded: traffic is shared again.
    for (let i = 0; i < 4; i++) await chat()
    expect(cooled.count).toBe(4)
  })
})
