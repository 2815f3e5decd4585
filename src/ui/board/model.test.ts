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
})
