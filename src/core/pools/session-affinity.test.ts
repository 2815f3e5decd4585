import {describe, expect, it} from 'vitest'
import {SessionAffinity} from './session-affinity.js'

function affinity(maxEntries = 10) {
  let clock = 1_000_000
  const map = new SessionAffinity({ttlMs: 60_000, maxEntries}, () => clock)
  return {map, advance: (ms: number) => (clock += ms)}
}

describe('SessionAffinity', () => {
  it('keeps a binding for its time to live after the last use', () => {
    const {map, advance} = affinity()
    map.bind('s', 'a')
    advance(59_999)
    expect(map.get('s')).toBe('a')
    advance(59_999)
    expect(map.get('s')).toBe('a')
    advance(60_000)
    expect(map.get('s')).toBeUndefined()
  })

  it('drops the least recently used binding when full', () => {
    const {map} = affinity(2)
    map.bind('old', 'a')
    map.bind('used', 'b')
    expect(map.get('old')).toBe('a')
    map.bind('new', 'c')
    expect(map.get('used')).toBeUndefined()
    expect(map.get('old')).toBe('a')
    expect(map.get('new')).toBe('c')
  })

  it("forgets an instance's sessions, and counts the others", () => {
    const {map} = affinity()
    map.bind('s1', 'a')
    map.bind('s2', 'a')
    map.bind('s3', 'b')
    expect(map.counts()).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    )
    map.forgetInstance('a')
    expect(map.get('s1')).toBeUndefined()
    expect(map.counts()).toEqual(new Map([['b', 1]]))
  })
})
