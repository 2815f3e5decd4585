import {describe, expect, it} from 'vitest'
import {applyHealth, DEFAULT_HEALTH_POLICY, type HealthPolicy} from './instance-health.js'
import {PoolState, type PoolEvent} from './pool-state.js'
import {toInstance} from './schema.js'

const POLICY: HealthPolicy = {
  errorThreshold: 3,
  errorWindowMs: 60_000,
  defaultCooldownMs: 30_000,
  maxCooldownMs: 600_000,
}

function pool(policy = POLICY) {
  let clock = 1_000_000
  const state = new PoolState(policy, () => clock)
  state.sync([
    toInstance(
      'openai-custom',
      {uuid: 'a-uuid', customName: 'a', OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1'},
      '/tmp',
    ),
  ])
  const events: PoolEvent[] = []
  let dirty = 0
  state.on('event', (event) => events.push(event))
  state.on('dirty', () => dirty++)
  const health = () =>
    events.filter((e) => e.type === 'health').map((e) => (e.type === 'health' ? [e.state, e.reason] : []))
  return {
    state,
    live: state.list()[0]!,
    advance: (ms: number) => (clock += ms),
    at: () => clock,
    health,
    dirty: () => dirty,
  }
}

describe('counted errors', () => {
  it('make the instance unhealthy at the threshold within the window, once', () => {
    const {state, live, health} = pool()
    state.failed(live, 'server error 500')
    state.failed(live, 'server error 502')
    expect(live.healthy).toBe(true)
    expect(health()).toEqual([])
    state.failed(live, 'server error 503')
    expect(live).toMatchObject({healthy: false, reason: 'server error 503', errorCount: 3})
    expect(health()).toEqual([['unhealthy', 'server error 503']])
    state.failed(live, 'again')
    expect(health()).toHaveLength(1)
  })

  it('slide out of the window: errors older than it no longer count', () => {
    const {state, live, advance} = pool()
    state.failed(live, 'e')
    advance(30_000)
    state.failed(live, 'e')
    advance(30_000)
    // The first error is now exactly one window old and has left it.
    state.failed(live, 'e')
    expect(live.healthy).toBe(true)
    expect(live.recentErrors).toHaveLength(2)
    advance(29_999)
    state.failed(live, 'e')
    expect(live.healthy).toBe(false)
  })

  it('are forgotten after a success', () => {
    const {state, live} = pool()
    state.failed(live, 'e')
    state.failed(live, 'e')
    state.succeeded(live, 12)
    state.failed(live, 'e')
    expect(live.healthy).toBe(true)
    expect(live).toMatchObject({errorCount: 3, usageCount: 1, latencies: [12]})
  })

  it('follow the policy threshold', () => {
    const {state, live} = pool({...POLICY, errorThreshold: 1})
    state.failed(live, 'once')
    expect(live.healthy).toBe(false)
  })
})

describe('cooldowns', () => {
  it('last as asked, never below zero and never past the cap', () => {
    const {state, live, at, health} = pool()
    state.cool(live, 5_000, 'rate limited')
    expect(live.cooldownUntil).toBe(at() + 5_000)
    expect(state.stateOf(live)).toBe('cooling')
    expect(health()).toEqual([['cooling', 'rate limited']])
    state.cool(live, 24 * 3600_000, 'rate limited')
    expect(live.cooldownUntil).toBe(at() + POLICY.maxCooldownMs)
    state.cool(live, -5, 'rate limited')
    expect(live.cooldownUntil).toBe(at())
    expect(state.stateOf(live)).toBe('healthy')
  })

  it('for a quota with a named reset time are not capped', () => {
    const {state, live, at} = pool()
    state.cool(live, 24 * 3600_000, 'quota exhausted', false)
    expect(live.cooldownUntil).toBe(at() + 24 * 3600_000)
    expect(live.cooldownReason).toBe('quota exhausted')
  })

  it('end when the instance is next seen cooling no longer', () => {
    const {state, live, advance} = pool()
    state.cool(live, 1_000, 'rate limited')
    advance(999)
    expect(state.stateOf(live)).toBe('cooling')
    advance(1)
    expect(state.stateOf(live)).toBe('healthy')
  })
})

describe('markHealthy', () => {
  it('clears unhealthy, the reason, the error window, the cooldown and a trial, and is written back', () => {
    const {state, live, health, dirty} = pool()
    for (let n = 0; n < 3; n++) state.failed(live, 'server error 500')
    state.cool(live, 5_000, 'rate limited')
    live.trial = {until: Infinity}
    const before = dirty()
    state.markHealthy(live)
    expect(live).toMatchObject({healthy: true, reason: null, recentErrors: [], cooldownUntil: 0, trial: null})
    expect(health().at(-1)).toEqual(['healthy', null])
    expect(dirty()).toBe(before + 1)
    expect(state.drain().get(live.id)?.fields).toMatchObject({
      isHealthy: true,
      lastErrorReason: null,
      cooldownUntil: null,
    })
  })

  it('does nothing to an instance already healthy and not cooling', () => {
    const {state, live, health, dirty} = pool()
    state.markHealthy(live)
    expect(health()).toEqual([])
    expect(dirty()).toBe(0)
  })
})

describe('probes', () => {
  it('bring an unhealthy instance back, or only note the time of a failed one', () => {
    const {state, live, at} = pool()
    state.markUnhealthy(live, 'auth')
    state.probed(live, false, 'auth')
    expect(live.healthy).toBe(false)
    expect(live.lastHealthCheckTime).toBe(new Date(at()).toISOString())
    state.probed(live, true, null)
    expect(live.healthy).toBe(true)
  })
})

describe('applyHealth', () => {
  it('takes the time from the change, not from a clock', () => {
    const {live} = pool()
    const effect = applyHealth(live, {type: 'failed', at: 42_000, reason: 'e'}, DEFAULT_HEALTH_POLICY)
    expect(live.lastErrorTime).toBe(new Date(42_000).toISOString())
    expect(effect).toEqual({fields: ['lastErrorTime'], usage: 0, errors: 1, health: false, dirty: true})
  })
})
