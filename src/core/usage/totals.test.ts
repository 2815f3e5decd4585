import {describe, expect, it} from 'vitest'
import {addToEntry, addUsage, totalOf, totalsOfEntry, zeroTotals} from './totals.js'

describe('token totals', () => {
  it('counts the estimated part of input + output, rounds estimates and leaves out counts that are not counts', () => {
    const totals = zeroTotals()
    addUsage(totals, {input: 10, output: 4, cacheRead: 6, cacheWrite: 0, reasoning: 3, estimated: false})
    addUsage(totals, {input: 2.6, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: true})
    addUsage(totals, {input: -5, output: Number.NaN, cacheRead: 1, cacheWrite: 2, reasoning: 0, estimated: false})
    expect(totals).toEqual({input: 13, output: 5, cacheRead: 7, cacheWrite: 2, reasoning: 3, estimated: 4})
    // Every input (uncached, cache read, cache write) and the output; reasoning is part of the output.
    expect(totalOf(totals)).toBe(27)
  })

  it('reads an entry’s fields and adds to them, creating only the fields that grow', () => {
    const raw: Record<string, unknown> = {usageCount: 3, inputTokens: 7, outputTokens: 'x'}
    expect(totalsOfEntry(raw)).toEqual({...zeroTotals(), input: 7})
    addToEntry(raw, {...zeroTotals(), input: 1, output: 2})
    expect(raw).toEqual({usageCount: 3, inputTokens: 8, outputTokens: 2})
  })
})
