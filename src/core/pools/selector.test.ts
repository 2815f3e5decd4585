import {describe, expect, it} from 'vitest'
import {closeLease, DEFAULT_TRIAL_TIMEOUT_MS, openLease} from './leases.js'
import {createLive, type LiveInstance} from './live-instance.js'
import {toInstance} from './schema.js'
import {Cursors, roundRobin, sidePick, unavailability, type SelectionInput} from './selector.js'

const NOW = 1_000_000

function live(name: string, status: Partial<LiveInstance> = {}): LiveInstance {
  const config = toInstance(
    'openai-custom',
    {uuid: `${name}-uuid`, customName: name, OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1'},
    '/tmp',
  )
  return Object.assign(createLive(config), status)
}

/** The instances a strategy picks in turn, moving the cursor as the pool does. */
function picks(candidates: LiveInstance[], count: number, input: Partial<SelectionInput> = {}): (string | null)[] {
  let cursor = input.cursor ?? 0
  const out: (string | null)[] = []
  for (let n = 0; n < count; n++) {
    const selection = roundRobin({candidates, exclude: new Set(), now: NOW, ...input, cursor})
    out.push(selection?.live.config.name ?? null)
    if (selection) cursor = selection.index + 1
  }
  return out
}

describe('round-robin selection', () => {
  it('takes the instances in turn from the cursor, wrapping around', () => {
    const pool = [live('a'), live('b'), live('c')]
    expect(picks(pool, 4)).toEqual(['a', 'b', 'c', 'a'])
    expect(picks(pool, 2, {cursor: 2})).toEqual(['c', 'a'])
    expect(picks(pool, 1, {cursor: 7})).toEqual(['b'])
  })

  it('takes a preferred instance first when it is usable, and goes round otherwise', () => {
    const pool = [live('a'), live('b'), live('c')]
    const prefer = pool[2]!.id
    expect(roundRobin({candidates: pool, exclude: new Set(), now: NOW, cursor: 0, prefer})?.live.config.name).toBe('c')
    pool[2]!.cooldownUntil = NOW + 1000
    expect(roundRobin({candidates: pool, exclude: new Set(), now: NOW, cursor: 0, prefer})?.live.config.name).toBe('a')
    const tried = new Set([prefer])
    pool[2]!.cooldownUntil = 0
    expect(roundRobin({candidates: pool, exclude: tried, now: NOW, cursor: 1, prefer})?.live.config.name).toBe('b')
  })

  it('skips the instances this request has already tried', () => {
    const pool = [live('a'), live('b'), live('c')]
    const exclude = new Set([pool[0]!.id, pool[1]!.id])
    expect(picks(pool, 2, {exclude})).toEqual(['c', 'c'])
    expect(roundRobin({candidates: pool, exclude: new Set(pool.map((l) => l.id)), now: NOW, cursor: 0})).toBeUndefined()
  })

  it('skips cooling, unhealthy and disabled instances', () => {
    const pool = [
      live('cooling', {cooldownUntil: NOW + 1}),
      live('unhealthy', {healthy: false}),
      live('disabled', {disabled: true}),
      live('ok'),
    ]
    expect(picks(pool, 3)).toEqual(['ok', 'ok', 'ok'])
    expect(roundRobin({candidates: pool.slice(0, 3), exclude: new Set(), now: NOW, cursor: 0})).toBeUndefined()
  })

  it('takes an instance whose cooldown has ended as a half-open trial, and passes it by while the trial runs', () => {
    const [ended, fresh] = [live('ended', {cooldownUntil: NOW}), live('fresh')]
    const first = roundRobin({candidates: [ended, fresh], exclude: new Set(), now: NOW, cursor: 0})!
    expect(first).toMatchObject({index: 0, halfOpen: true})
    expect(roundRobin({candidates: [fresh], exclude: new Set(), now: NOW, cursor: 0})!.halfOpen).toBe(false)
    openLease(first, NOW)
    expect(picks([ended, fresh], 2)).toEqual(['fresh', 'fresh'])
    expect(picks([ended], 1)).toEqual([null])
  })

  it('passes by a running trial only until it expires', () => {
    const ended = live('ended', {cooldownUntil: NOW - 10, trial: {until: NOW + 5}})
    expect(picks([ended], 1)).toEqual([null])
    expect(picks([ended], 1, {now: NOW + 5})).toEqual(['ended'])
  })

  it('has a pure core: the candidates and the cursor are left as they were', () => {
    const pool = [live('a'), live('b', {cooldownUntil: NOW})]
    // The config is shared, read-only data; what a pick could change is the rest.
    const mutable = () => pool.map(({config: _config, ...rest}) => rest)
    const before = structuredClone(mutable())
    roundRobin({candidates: pool, exclude: new Set(), now: NOW, cursor: 1})
    expect(mutable()).toEqual(before)
  })
})

describe('side picks', () => {
  it('take a usable instance from the cursor without a trial, and skip one being tried', () => {
    const tried = live('tried', {cooldownUntil: NOW - 1, trial: {until: NOW + 1}})
    const pool = [live('down', {healthy: false}), tried, live('ok')]
    expect(sidePick({candidates: pool, now: NOW, cursor: 0})?.config.name).toBe('ok')
    expect(sidePick({candidates: pool.slice(0, 2), now: NOW, cursor: 0})).toBeUndefined()
    expect(sidePick({candidates: [live('x'), live('y')], now: NOW, cursor: 1})?.config.name).toBe('y')
  })
})

describe('unavailability', () => {
  it('counts the states of the candidates not excluded and names the earliest cooldown end', () => {
    const pool = [
      live('c1', {cooldownUntil: NOW + 500}),
      live('c2', {cooldownUntil: NOW + 200}),
      live('u', {healthy: false}),
      live('d', {disabled: true}),
    ]
    const excluded = live('c0', {cooldownUntil: NOW + 1})
    expect(unavailability([...pool, excluded], new Set([excluded.id]), NOW)).toEqual({
      coolingUntil: NOW + 200,
      counts: {healthy: 0, cooling: 2, unhealthy: 1, disabled: 1},
    })
    expect(unavailability([live('u', {healthy: false})], new Set(), NOW).coolingUntil).toBeNull()
  })
})

describe('cursors', () => {
  it('start each type at 0 and resume after its last pick', () => {
    const cursors = new Cursors()
    cursors.picked('openai-custom', 2)
    expect(cursors.at('openai-custom')).toBe(3)
    expect(cursors.at('claude-custom')).toBe(0)
  })
})

describe('leases', () => {
  it('count the request in flight, own a half-open trial for five minutes, and let go once', () => {
    const instance = live('a', {cooldownUntil: NOW - 1})
    const lease = openLease({index: 0, live: instance, halfOpen: true}, NOW)
    expect(instance.inFlight).toBe(1)
    expect(instance.trial).toBe(lease.trial)
    expect(lease.trial!.until).toBe(NOW + DEFAULT_TRIAL_TIMEOUT_MS)
    expect(DEFAULT_TRIAL_TIMEOUT_MS).toBe(5 * 60_000)
    closeLease(lease)
    closeLease(lease)
    expect(instance.inFlight).toBe(0)
    expect(instance.trial).toBeNull()
  })

  it('end only their own trial', () => {
    const instance = live('a')
    const plain = openLease({index: 0, live: instance, halfOpen: false}, NOW)
    expect(plain.trial).toBeNull()
    const trial = openLease({index: 0, live: instance, halfOpen: true}, NOW, 1000)
    closeLease(plain)
    expect(instance.trial).toBe(trial.trial)
    expect(trial.trial!.until).toBe(NOW + 1000)
  })
})
