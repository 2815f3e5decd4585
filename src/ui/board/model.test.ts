import {describe, expect, it} from 'vitest'
import {DEFAULT_HEALTH_POLICY, PoolState} from '../../core/pools/pool-state.js'
import {toInstance} from '../../core/pools/schema.js'
import {SessionAffinity} from '../../core/pools/session-affinity.js'
import {buildRows} from './model.js'

describe('board rows', () => {
  it("carry each instance's priority and weight, defaults filled in, and its type's strategy", () => {
    const state = new PoolState(DEFAULT_HEALTH_POLICY, Date.now, {'claude-custom': 'fill-first'})
    state.sync([
      toInstance('openai-custom', {uuid: 'a', customName: 'tiered', priority: 5, weight: 0}, '/'),
      toInstance('claude-custom', {uuid: 'b', customName: 'plain'}, '/'),
    ])
    const rows = buildRows(state, Date.now())
    expect(rows.map(({name, priority, weight, strategy}) => ({name, priority, weight, strategy}))).toEqual([
      {name: 'tiered', priority: 5, weight: 0, strategy: 'round-robin'},
      {name: 'plain', priority: 0, weight: 1, strategy: 'fill-first'},
    ])
  })

  it('count the sessions bound to each instance', () => {
    const state = new PoolState(DEFAULT_HEALTH_POLICY, Date.now, {}, new SessionAffinity())
    state.sync([
      toInstance('openai-custom', {uuid: 'a', customName: 'bound'}, '/'),
      toInstance('openai-custom', {uuid: 'b', customName: 'free'}, '/'),
    ])
    const bound = state.list()[0]!
    for (const key of ['one', 'two'])
      state.served(
        state.sessionOf('openai-custom', 'm', () => key)!,
        bound,
      )
    expect(buildRows(state, Date.now()).map(({name, sessions}) => ({name, sessions}))).toEqual([
      {name: 'bound', sessions: 2},
      {name: 'free', sessions: 0},
    ])
  })

  it("show the later quota reading: serve's own probe, or one `pool check` wrote to the file meanwhile", () => {
    const reading = (remainingPercent: number, checkedAt: string) => ({
      remainingPercent,
      exhausted: false,
      source: 'usage-limits' as const,
      checkedAt,
    })
    const state = new PoolState(DEFAULT_HEALTH_POLICY, Date.now)
    const entry = (quota: unknown) => toInstance('claude-kiro-oauth', {uuid: 'k', customName: 'kiro', quota}, '/')
    state.sync([entry(reading(80, '2026-12-04T10:00:00Z'))])
    const quota = () => buildRows(state, Date.now())[0]!.quota?.remainingPercent
    expect(quota()).toBe(80)
    state.quotaRead(state.list()[0]!, reading(70, '2026-12-04T11:00:00Z'))
    expect(quota()).toBe(70)
    state.sync([entry(reading(60, '2026-12-04T12:00:00Z'))])
    expect(quota()).toBe(60)
    state.sync([entry('not a quota')])
    expect(quota()).toBe(70)
  })
})
