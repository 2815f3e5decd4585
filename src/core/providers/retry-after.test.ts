import {describe, expect, it} from 'vitest'
import {retryAfterMs} from './outcome.js'

const NOW = Date.parse('2026-12-03T12:00:00Z')

describe('retryAfterMs', () => {
  it.each([
    ['seconds', {'retry-after': '7'}, 7_000],
    ['fractional seconds, rounded up', {'retry-after': '1.0004'}, 1_001],
    ['zero seconds', {'retry-after': '0'}, 0],
    ['padded seconds', {'retry-after': ' 3 '}, 3_000],
    ['an HTTP date', {'retry-after': 'Thu, 03 Dec 2026 12:00:30 GMT'}, 30_000],
    ['an HTTP date already past, as no wait', {'retry-after': 'Thu, 03 Dec 2026 11:59:00 GMT'}, 0],
    // Date.parse reads '-5' as the year -5: long past, so no wait.
    ['a negative number, as no wait', {'retry-after': '-5'}, 0],
    ['retry-after-ms', {'retry-after-ms': '1500'}, 1_500],
    ['retry-after-ms with a fraction, rounded up', {'retry-after-ms': '2.2'}, 3],
    ['retry-after-ms before retry-after', {'retry-after-ms': '250', 'retry-after': '9'}, 250],
    ['retry-after when retry-after-ms is not a number', {'retry-after-ms': 'soon', 'retry-after': '2'}, 2_000],
    ['the first of repeated headers', {'retry-after': ['4', '8']}, 4_000],
  ])('reads %s', (_, headers, expected) => {
    expect(retryAfterMs(headers, NOW)).toBe(expected)
  })

  it.each([
    ['no header', {}],
    ['an empty value', {'retry-after': '  '}],
    ['words', {'retry-after': 'later'}],
  ])('gives null for %s', (_, headers) => {
    expect(retryAfterMs(headers, NOW)).toBeNull()
  })
})
