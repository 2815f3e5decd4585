import {afterEach, describe, expect, it, vi} from 'vitest'
import {DEFAULT_HEALTH_POLICY, PoolState} from './pool-state.js'
import {toInstance} from './schema.js'
import type {RawInstance} from './types.js'

function instance(name: string, extra: RawInstance = {}) {
  return toInstance(
    'openai-custom',
    {
      uuid: `${name}-uuid`,
      customName: name,
      OPENAI_API_KEY: 'sk-x',
      OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      isHealthy: true,
      ...extra,
    },
    '/tmp',
  )
}

/** One instance whose cooldown has just ended: the next request is its half-open trial. */
function halfOpen(extra: Partial<typeof DEFAULT_HEALTH_POLICY> = {}) {
  let clock = 1_000_000
  const state = new PoolState({...DEFAULT_HEALTH_POLICY, ...extra}, () => clock)
  state.sync([instance('a')])
  const live = state.list()[0]!
  state.cool(live, 1000, 'rate limited')
  clock += 1001
  return {state, live, advance: (ms: number) => (clock += ms), none: new Set<string>()}
}

describe('half-open trials', () => {
  it('go to one request at a time, and end with that request', () => {
    const {state, none} = halfOpen()
    const trial = state.acquire('openai-custom', none)!
    expect(trial.trial).not.toBeNull()
    expect(state.acquire('openai-custom', none)).toBeUndefined()
    state.release(trial)
    const next = state.acquire('openai-custom', none)!
    expect(next.trial).not.toBeNull()
  })

  it('are ended only by their own request, not by one that ran before the cooldown', () => {
    let clock = 1_000_000
    const state = new PoolState(DEFAULT_HEALTH_POLICY, () => clock)
    state.sync([instance('a')])
    const none = new Set<string>()
    const early = state.acquire('openai-custom', none)!
    expect(early.trial).toBeNull()
    state.cool(early.live, 1000, 'rate limited')
    clock += 1001
    const trial = state.acquire('openai-custom', none)!
    state.release(early)
    state.release(early)
    expect(state.acquire('openai-custom', none)).toBeUndefined()
    expect(trial.live.inFlight).toBe(1)
    state.release(trial)
    expect(trial.live.inFlight).toBe(0)
  })

  it('are never taken by side requests, which skip an instance being tried', () => {
    const {state, none} = halfOpen()
    expect(state.pick('openai-custom')).toBeDefined()
    expect(state.pick('openai-custom')!.trial).toBeNull()
    const trial = state.acquire('openai-custom', none)!
    expect(state.pick('openai-custom')).toBeUndefined()
    state.release(trial)
    expect(state.pick('openai-custom')).toBe(trial.live)
  })

  it('are presumed lost after the trial timeout', () => {
    const {state, none, advance} = halfOpen({trialTimeoutMs: 10_000})
    state.acquire('openai-custom', none)
    advance(9_999)
    expect(state.acquire('openai-custom', none)).toBeUndefined()
    advance(2)
    expect(state.acquire('openai-custom', none)!.trial).not.toBeNull()
  })

  it('end when the instance is marked healthy, or disabled and enabled in the file', () => {
    const {state, live, none} = halfOpen()
    state.acquire('openai-custom', none)
    state.markHealthy(live)
    expect(state.acquire('openai-custom', none)?.trial).toBeNull()

    const second = halfOpen()
    second.state.acquire('openai-custom', second.none)
    second.state.sync([instance('a', {isDisabled: true})])
    second.state.sync([instance('a')])
    expect(second.state.acquire('openai-custom', second.none)!.trial).not.toBeNull()
  })

  it('end with a cooldown cleared in the file by someone else', () => {
    const {state, live, none} = halfOpen()
    const changes = state.drain()
    state.committed(changes)
    state.acquire('openai-custom', none)
    expect(changes.get(live.id)?.fields.cooldownUntil).toBeTypeOf('string')
    state.sync([instance('a', {cooldownUntil: null})])
    expect(live.cooldownUntil).toBe(0)
    expect(state.acquire('openai-custom', none)?.trial).toBeNull()
  })

  it('close the half-open period when the trial succeeds', () => {
    const {state, live, none} = halfOpen()
    const trial = state.acquire('openai-custom', none)!
    state.succeeded(live, 10)
    state.release(trial)
    expect(live.cooldownUntil).toBe(0)
    expect(state.acquire('openai-custom', none)?.trial).toBeNull()
  })

  it('end with a new cooldown, so the next trial belongs to the next half-open period', () => {
    const {state, live, none, advance} = halfOpen()
    const first = state.acquire('openai-custom', none)!
    state.cool(live, 1000, 'rate limited again')
    expect(live.trial).toBeNull()
    expect(state.acquire('openai-custom', none)).toBeUndefined()
    advance(1001)
    const second = state.acquire('openai-custom', none)!
    expect(second.trial).not.toBeNull()
    state.release(first)
    expect(live.trial).toBe(second.trial)
  })
})

describe('the default trial timeout', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is five minutes on the wall clock', () => {
    vi.useFakeTimers({now: 1_000_000})
    const state = new PoolState()
    state.sync([instance('a')])
    state.cool(state.list()[0]!, 1000, 'rate limited')
    vi.advanceTimersByTime(1000)
    const none = new Set<string>()
    expect(state.acquire('openai-custom', none)!.trial).not.toBeNull()
    vi.advanceTimersByTime(5 * 60_000 - 1)
    expect(state.acquire('openai-custom', none)).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(state.acquire('openai-custom', none)!.trial).not.toBeNull()
  })
})
