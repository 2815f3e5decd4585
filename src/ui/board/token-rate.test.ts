import {describe, expect, it} from 'vitest'
import {TokenRate} from './token-rate.js'

describe('TokenRate', () => {
  it('averages the tokens of the answers that ended within the window, overall and per instance', () => {
    const rate = new TokenRate(5_000)
    rate.add('a', 1000, 10_000)
    rate.add('b', 500, 12_000)
    rate.add('a', 1500, 14_000)
    rate.add('a', 0, 14_000)
    expect(rate.at(14_000)).toEqual({
      total: 600,
      byInstance: new Map([
        ['a', 500],
        ['b', 100],
      ]),
    })
    // At 15 s the first answer (10 s) has left the window; just before 19 s only the last is left; then none.
    expect(rate.at(15_000).byInstance.get('a')).toBe(300)
    expect(rate.at(18_999)).toEqual({total: 300, byInstance: new Map([['a', 300]])})
    expect(rate.at(19_000)).toEqual({total: 0, byInstance: new Map()})
  })
})
