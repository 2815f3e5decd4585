import {describe, expect, it} from 'vitest'
import {compactCount} from './text.js'

describe('compactCount', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1k'],
    [12_345, '12.3k'],
    [99_960, '100k'],
    [480_400, '480k'],
    [999_960, '1M'],
    [1_250_000, '1.3M'],
    [7_000_000_000_000_000, '7000T'],
  ])('%d reads %s', (count, text) => {
    expect(compactCount(count)).toBe(text)
  })
})
