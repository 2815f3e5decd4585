import {afterEach, describe, expect, it, vi} from 'vitest'
import {DEFAULT_HEALTH_POLICY, PoolState} from './pool-state.js'
import {toInstance} from './schema.js'
import {DEFAULT_AFFINITY, SessionAffinity} from './session-affinity.js'
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

describe('sticky sessions', () => {
  function sticky(extra: Record<string, RawInstance> = {}) {
    let clock = 1_000_000
    const now = () => clock
    const state = new PoolState(DEFAULT_HEALTH_POLICY, now, {}, new SessionAffinity(DEFAULT_AFFINITY, now))
    const names = ['a', 'b', 'c']
    state.sync(names.map((name) => instance(name, extra[name])))
    const session = state.sessionOf('openai-custom', 'gpt', () => 'conversation')!
    const none = new Set<string>()
    /** Serves one request of the session, as the proxy does: acquire, answer, bind, release. */
    const serve = () => {
      const lease = state.acquire('openai-custom', none, {session})!
      state.served(session, lease.live)
      state.release(lease)
      return lease.live.config.name
    }
    const byName = (name: string) => state.list().find((live) => live.config.name === name)!
    return {state, session, serve, byName, advance: (ms: number) => (clock += ms), sync: state.sync.bind(state)}
  }

  it('keep a session on its instance, which round-robin would leave', () => {
    const {serve} = sticky()
    expect([serve(), serve(), serve(), serve()]).toEqual(['a', 'a', 'a', 'a'])
  })

  it('serve elsewhere while the instance cools, without moving the session', () => {
    const {state, serve, byName, advance} = sticky()
    serve()
    state.cool(byName('a'), 1000, 'rate limited')
    expect(serve()).not.toBe('a')
    advance(1001)
    expect(serve()).toBe('a')
  })

  it.each([
    ['unhealthy', (t: ReturnType<typeof sticky>) => t.state.markUnhealthy(t.byName('a'), 'broken')],
    [
      'disabled',
      (t: ReturnType<typeof sticky>) => t.sync([instance('a', {isDisabled: true}), instance('b'), instance('c')]),
    ],
    ['removed', (t: ReturnType<typeof sticky>) => t.sync([instance('b'), instance('c')])],
  ])('move a session off an instance that turns %s, for good', (_name, lose) => {
    const t = sticky()
    t.serve()
    lose(t)
    expect(t.state.affinity!.counts().size).toBe(0)
    const moved = t.serve()
    expect(moved).not.toBe('a')
    t.sync([instance('a'), instance('b'), instance('c')])
    t.state.markHealthy(t.byName('a'))
    expect([t.serve(), t.serve()]).toEqual([moved, moved])
  })

  it('give way to a higher priority tier, and come back when it cools', () => {
    const t = sticky({a: {priority: 1}})
    t.sync([instance('a', {priority: 1}), instance('b'), instance('c')])
    t.state.cool(t.byName('a'), 1000, 'rate limited')
    const bound = t.serve()
    expect(bound).not.toBe('a')
    t.advance(1001)
    expect(t.serve()).toBe('a')
    t.state.cool(t.byName('a'), 1000, 'rate limited')
    expect([t.serve(), t.serve()]).toEqual([bound, bound])
  })
})

describe('cycling the routing strategy from the board', () => {
  const picks = (state: PoolState, count: number) =>
    Array.from({length: count}, () => {
      const lease = state.acquire('openai-custom', new Set())!
      state.release(lease)
      return lease.live.config.name
    })

  it('goes through every strategy in turn, changes how the type is served, and leaves other types alone', () => {
    const state = new PoolState(DEFAULT_HEALTH_POLICY, () => 1_000_000, {'claude-custom': 'least-busy'})
    state.sync([instance('a'), instance('b')])
    expect(picks(state, 2)).toEqual(['a', 'b'])
    expect(state.cycleStrategy('openai-custom')).toBe('fill-first')
    expect(picks(state, 3)).toEqual(['a', 'a', 'a'])
    expect([1, 2, 3].map(() => state.cycleStrategy('openai-custom'))).toEqual(['weighted', 'least-busy', 'round-robin'])
    expect(state.strategyOf('claude-custom')).toBe('least-busy')
  })
})
