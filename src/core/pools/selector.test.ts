import {describe, expect, it} from 'vitest'
import {closeLease, DEFAULT_TRIAL_TIMEOUT_MS, openLease} from './leases.js'
import {createLive, type LiveInstance} from './live-instance.js'
import {toInstance} from './schema.js'
import {
  Cursors,
  fillFirst,
  leastBusy,
  roundRobin,
  sidePick,
  STRATEGIES,
  unavailability,
  weighted,
  type SelectionInput,
  type Strategy,
} from './selector.js'

const NOW = 1_000_000

function live(name: string, status: Partial<LiveInstance> = {}, routing: Record<string, unknown> = {}) {
  const config = toInstance(
    'openai-custom',
    {
      uuid: `${name}-uuid`,
      customName: name,
      OPENAI_API_KEY: 'sk-x',
      OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      ...routing,
    },
    '/tmp',
  )
  return Object.assign(createLive(config), status)
}

/** The instances a strategy picks in turn, keeping its position (cursor and credits) as the pool does. */
function picks(
  candidates: LiveInstance[],
  count: number,
  input: Partial<SelectionInput> = {},
  strategy: Strategy = roundRobin,
): (string | null)[] {
  let position: Pick<SelectionInput, 'cursor' | 'credits'> = {cursor: input.cursor ?? 0}
  const out: (string | null)[] = []
  for (let n = 0; n < count; n++) {
    const selection = strategy({candidates, exclude: new Set(), now: NOW, ...input, ...position})
    out.push(selection?.live.config.name ?? null)
    if (selection) position = {cursor: selection.index + 1, credits: selection.credits ?? position.credits}
  }
  return out
}

function tally(names: (string | null)[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of names) counts[String(name)] = (counts[String(name)] ?? 0) + 1
  return counts
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

describe('fill-first selection', () => {
  it('always takes the first usable instance in file order, whatever the cursor', () => {
    const pool = [live('a'), live('b'), live('c')]
    expect(picks(pool, 3, {}, fillFirst)).toEqual(['a', 'a', 'a'])
    expect(picks(pool, 2, {cursor: 2}, fillFirst)).toEqual(['a', 'a'])
  })

  it('moves on to the next only while the first cannot serve, and back when it can', () => {
    const pool = [live('a', {cooldownUntil: NOW + 100}), live('b'), live('c')]
    expect(picks(pool, 2, {}, fillFirst)).toEqual(['b', 'b'])
    expect(picks(pool, 1, {exclude: new Set([pool[1]!.id])}, fillFirst)).toEqual(['c'])
    pool[0]!.cooldownUntil = 0
    expect(picks(pool, 2, {}, fillFirst)).toEqual(['a', 'a'])
  })
})

describe('weighted selection', () => {
  it('spreads smoothly by weight: 3:1 gives a a b a, not bursts', () => {
    const pool = [live('a', {}, {weight: 3}), live('b', {}, {weight: 1})]
    expect(picks(pool, 8, {}, weighted)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a'])
  })

  it.each([
    {weights: [3, 1], share: 0.75},
    {weights: [1, 1], share: 0.5},
    {weights: [5, 3], share: 0.625},
    {weights: [0.5, 1.5], share: 0.25},
  ])('weights $weights give the first $share of 1,000 picks (± 3 %)', ({weights, share}) => {
    const pool = [live('a', {}, {weight: weights[0]}), live('b', {}, {weight: weights[1]})]
    const counts = tally(picks(pool, 1000, {}, weighted))
    expect(Math.abs(counts.a! / 1000 - share)).toBeLessThanOrEqual(0.03)
    expect(counts.a! + counts.b!).toBe(1000)
  })

  it('never picks weight 0 while another can serve, and picks nothing when only weight 0 is left', () => {
    const pool = [live('zero', {}, {weight: 0}), live('a'), live('b', {}, {weight: 2})]
    expect(tally(picks(pool, 300, {}, weighted))).toEqual({a: 100, b: 200})
    expect(picks(pool.slice(0, 1), 1, {}, weighted)).toEqual([null])
  })

  it('an instance without a weight field counts as weight 1', () => {
    const pool = [live('plain'), live('double', {}, {weight: 2})]
    expect(tally(picks(pool, 300, {}, weighted))).toEqual({plain: 100, double: 200})
  })

  it('skips an instance that cannot serve and keeps the others in proportion', () => {
    const pool = [live('a', {}, {weight: 3}), live('down', {healthy: false}, {weight: 5}), live('b')]
    expect(tally(picks(pool, 400, {}, weighted))).toEqual({a: 300, b: 100})
  })

  it('drops the credit of an instance that left the pool', () => {
    const [a, b] = [live('a'), live('b')]
    const first = weighted({candidates: [a, b], exclude: new Set(), now: NOW, cursor: 0})!
    expect([...first.credits!.keys()].sort()).toEqual([a.id, b.id])
    const next = weighted({candidates: [b], exclude: new Set(), now: NOW, cursor: 0, credits: first.credits})!
    expect([...next.credits!.keys()]).toEqual([b.id])
  })
})

describe('least-busy selection', () => {
  it('takes the instance with the fewest requests in flight', () => {
    const pool = [live('a', {inFlight: 3}), live('b', {inFlight: 1}), live('c', {inFlight: 2})]
    expect(picks(pool, 3, {}, leastBusy)).toEqual(['b', 'b', 'b'])
  })

  it('breaks ties round-robin from the cursor', () => {
    const pool = [live('a', {inFlight: 1}), live('b', {inFlight: 0}), live('c', {inFlight: 5}), live('d')]
    expect(picks(pool, 4, {}, leastBusy)).toEqual(['b', 'd', 'b', 'd'])
    expect(picks(pool, 1, {cursor: 2}, leastBusy)).toEqual(['d'])
  })

  it('follows the leases as they open and close', () => {
    const pool = [live('a'), live('b')]
    const first = leastBusy({candidates: pool, exclude: new Set(), now: NOW, cursor: 0})!
    const lease = openLease(first, NOW)
    expect(leastBusy({candidates: pool, exclude: new Set(), now: NOW, cursor: 0})!.live.config.name).toBe('b')
    openLease(leastBusy({candidates: pool, exclude: new Set(), now: NOW, cursor: 0})!, NOW)
    openLease(leastBusy({candidates: pool, exclude: new Set(), now: NOW, cursor: 0})!, NOW)
    closeLease(lease)
    expect(pool.map((l) => l.inFlight)).toEqual([1, 1])
    expect(leastBusy({candidates: pool, exclude: new Set(), now: NOW, cursor: 1})!.live.config.name).toBe('b')
    expect(
      leastBusy({candidates: [...pool, live('idle')], exclude: new Set(), now: NOW, cursor: 0})!.live.config.name,
    ).toBe('idle')
  })

  it('skips what cannot serve even when it is idle', () => {
    const pool = [live('cooling', {cooldownUntil: NOW + 1}), live('busy', {inFlight: 9})]
    expect(picks(pool, 2, {}, leastBusy)).toEqual(['busy', 'busy'])
  })
})

describe('priority tiers', () => {
  /** A paid backup key below two subscription accounts. */
  const pool = () => [
    live('backup', {}, {priority: -1}),
    live('sub1', {}, {priority: 5}),
    live('sub2', {}, {priority: 5}),
  ]

  it.each(Object.entries(STRATEGIES))(
    '%s leaves a lower tier untouched while a higher one serves',
    (_name, strategy) => {
      const names = picks(pool(), 40, {}, strategy)
      expect(names).not.toContain('backup')
      expect(names.every((name) => name === 'sub1' || name === 'sub2')).toBe(true)
    },
  )

  it.each(Object.entries(STRATEGIES))(
    '%s uses the lower tier the moment the higher cannot, and goes back',
    (_n, strategy) => {
      const instances = pool()
      const [, sub1, sub2] = instances
      sub1!.cooldownUntil = NOW + 1000
      sub2!.healthy = false
      expect(picks(instances, 2, {}, strategy)).toEqual(['backup', 'backup'])
      sub2!.healthy = true
      expect(picks(instances, 1, {exclude: new Set([sub2!.id])}, strategy)).toEqual(['backup'])
      expect(picks(instances, 2, {}, strategy)).toEqual(['sub2', 'sub2'])
      sub1!.cooldownUntil = 0
      sub2!.disabled = true
      expect(picks(instances, 1, {}, strategy)).toEqual(['sub1'])
    },
  )

  it('ranks any numbers, higher first, with no priority field as 0', () => {
    const instances = [live('none'), live('neg', {}, {priority: -2}), live('half', {}, {priority: 0.5})]
    expect(picks(instances, 2)).toEqual(['half', 'half'])
    instances[2]!.disabled = true
    expect(picks(instances, 2)).toEqual(['none', 'none'])
    instances[0]!.disabled = true
    expect(picks(instances, 1)).toEqual(['neg'])
  })

  it('passes the higher tier by while its only instance runs a half-open trial', () => {
    const instances = [live('low'), live('high', {cooldownUntil: NOW - 1, trial: {until: NOW + 5}}, {priority: 1})]
    expect(picks(instances, 1)).toEqual(['low'])
  })

  it('still sends a request to the instance holding its conversation, whatever its tier', () => {
    const instances = [live('low'), live('high', {}, {priority: 1})]
    const prefer = instances[0]!.id
    for (const strategy of Object.values(STRATEGIES))
      expect(strategy({candidates: instances, exclude: new Set(), now: NOW, cursor: 0, prefer})!.live.config.name).toBe(
        'low',
      )
  })

  it('apply to side picks', () => {
    const instances = [live('low'), live('high', {}, {priority: 1})]
    expect(sidePick({candidates: instances, now: NOW, cursor: 0})?.config.name).toBe('high')
    instances[1]!.cooldownUntil = NOW + 1
    expect(sidePick({candidates: instances, now: NOW, cursor: 0})?.config.name).toBe('low')
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
      full: 0,
    })
    expect(unavailability([live('u', {healthy: false})], new Set(), NOW).coolingUntil).toBeNull()
  })
})

describe('concurrency limits', () => {
  it('pass by an instance at its limit under every strategy, and take it again once a request ends', () => {
    for (const strategy of Object.values(STRATEGIES)) {
      const a = live('a', {inFlight: 2}, {concurrencyLimit: 2})
      const pool = [a, live('b', {inFlight: 5}, {concurrencyLimit: 0})]
      expect(picks(pool, 3, {}, strategy)).toEqual(['b', 'b', 'b'])
      a.inFlight = 1
      expect(picks(pool, 1, {}, strategy)).toEqual(['a'])
    }
  })

  it('pass by a full instance even when it holds the conversation, and select none when all are full', () => {
    const a = live('a', {inFlight: 1}, {concurrencyLimit: 1})
    const b = live('b', {inFlight: 3}, {concurrencyLimit: 3})
    expect(picks([a, live('c')], 1, {prefer: a.id})).toEqual(['c'])
    expect(picks([a, b], 1)).toEqual([null])
    expect(unavailability([a, b, live('u', {healthy: false}, {concurrencyLimit: 1})], new Set(), NOW).full).toBe(2)
  })

  it('count the instances that take the model among the full ones', () => {
    const a = live('a', {inFlight: 1}, {concurrencyLimit: 1, supportedModels: ['gpt-4o']})
    expect(unavailability([a], new Set(), NOW, 'gpt-4o').full).toBe(1)
    expect(unavailability([a], new Set(), NOW, 'o3').full).toBe(0)
  })
})

describe('model lists', () => {
  const pool = [
    live('mini', {}, {supportedModels: ['gpt-4o-mini']}),
    live('claude', {}, {supportedModels: ['claude-*']}),
    live('rest', {}, {notSupportedModels: ['claude-*', 'gpt-4o-mini']}),
  ]

  it('send each model only to the instances that serve it', () => {
    expect(picks(pool, 2, {model: 'gpt-4o-mini'})).toEqual(['mini', 'mini'])
    expect(picks(pool, 2, {model: 'claude-sonnet-4-5'})).toEqual(['claude', 'claude'])
    expect(picks(pool, 2, {model: 'o3'})).toEqual(['rest', 'rest'])
    expect(picks(pool, 3)).toEqual(['mini', 'claude', 'rest'])
  })

  it('treat only * as a wildcard', () => {
    const dotted = [live('dot', {}, {supportedModels: ['gpt-4.1']})]
    expect(picks(dotted, 1, {model: 'gpt-4x1'})).toEqual([null])
    expect(picks(dotted, 1, {model: 'gpt-4.1'})).toEqual(['dot'])
  })
})

describe('cursors', () => {
  it('start each type at 0 and resume after its last pick', () => {
    const cursors = new Cursors()
    cursors.picked('openai-custom', {index: 2})
    expect(cursors.at('openai-custom')).toEqual({cursor: 3})
    expect(cursors.at('claude-custom')).toEqual({cursor: 0})
    const credits = new Map([['a', 1]])
    cursors.picked('openai-custom', {index: 0, credits})
    expect(cursors.at('openai-custom')).toEqual({cursor: 1, credits})
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
