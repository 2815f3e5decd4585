import {describe, expect, it} from 'vitest'

import {googleRetryHint, nextMonthStartUtc, nextShanghaiMidnight} from './google-retry.js'

const RPC = 'type.googleapis.com/google.rpc.'
const RATE = 'RATE_LIMIT_EXCEEDED'
const retry = (retryDelay: string) => ({'@type': `${RPC}RetryInfo`, retryDelay})
const info = (reason: string, metadata: Record<string, string> = {}) => ({
  '@type': `${RPC}ErrorInfo`,
  reason,
  domain: 'cloudcode-pa.googleapis.com',
  metadata,
})
const quota = (quotaId: string) => ({'@type': `${RPC}QuotaFailure`, violations: [{quotaId, quotaMetric: 'm'}]})
const body = (message: string, ...details: object[]) => ({
  error: {code: 429, status: 'RESOURCE_EXHAUSTED', message, ...(details.length > 0 && {details})},
})
const hint = (delayMs: number | null, terminal = false, reason: string | null = null) => ({delayMs, terminal, reason})

const NOW = Date.parse('2026-03-01T10:00:00Z')

describe('googleRetryHint', () => {
  it.each([
    ['RetryInfo in seconds, rounded up to whole ms', body('x', retry('34.074824224s')), hint(34075)],
    ['RetryInfo in milliseconds', body('x', retry('900ms')), hint(900)],
    [
      'RetryInfo before quotaResetDelay',
      body('x', info(RATE, {quotaResetDelay: '9s'}), retry('2s')),
      hint(2000, false, RATE),
    ],
    ['quotaResetDelay as a Go duration', body('x', info(RATE, {quotaResetDelay: '1m30.5s'})), hint(90500, false, RATE)],
    [
      'quota_reset_delay in snake_case',
      body('x', info(RATE, {quota_reset_delay: '479.417207ms'})),
      hint(480, false, RATE),
    ],
    [
      'quotaResetDelay before the message',
      body('reset after 50s.', info(RATE, {quotaResetDelay: '3s'})),
      hint(3000, false, RATE),
    ],
    [
      'quotaResetTimeStamp against now',
      body('x', info(RATE, {quotaResetTimeStamp: '2026-03-01T10:00:42Z'})),
      hint(42000, false, RATE),
    ],
    [
      'a past quotaResetTimeStamp is no hint',
      body('x', info(RATE, {quotaResetTimeStamp: '2026-03-01T09:00:00Z'})),
      hint(null, false, RATE),
    ],
    ['"after Ns" in the message', body('Quota exceeded. Your quota will reset after 34s.'), hint(34000)],
    ['"after 1h2m3s" in the message', body('Capacity exhausted. Resets after 1h2m3s.'), hint(3723000, true)],
    ['"resets in" in the message', body('Limit reached, resets in 2m.'), hint(120000)],
    ['"Please retry in Ns"', body('Quota exceeded for metric: x. Please retry in 12.5s.'), hint(12500)],
    ['"Please retry in Nms"', body('Please retry in 250ms'), hint(250)],
    ['words that only start like a duration', body('Try again after 5min or after 3 hours.'), hint(null)],
    ['a zero RetryInfo falls through to the message', body('reset after 7s', retry('0s')), hint(7000)],
    [
      'QUOTA_EXHAUSTED is terminal even with a short delay',
      body('x', info('QUOTA_EXHAUSTED'), retry('10s')),
      hint(10000, true, 'QUOTA_EXHAUSTED'),
    ],
    [
      'exhausted credits are terminal',
      body('x', info('INSUFFICIENT_G1_CREDITS_BALANCE')),
      hint(null, true, 'INSUFFICIENT_G1_CREDITS_BALANCE'),
    ],
    ['a PerDay quota is terminal', body('x', quota('RequestsPerDayPerProject'), retry('20s')), hint(20000, true)],
    ['a Daily quota is terminal', body('x', quota('DailyRequests')), hint(null, true)],
    ['a PerMinute quota is not', body('x', quota('GenerateRequestsPerMinutePerProject')), hint(null)],
    ['"limit: 0" is terminal', body('Quota exceeded for metric: generate_requests, limit: 0'), hint(null, true)],
    ['a delay above five minutes is terminal but still reported', body('x', retry('301s')), hint(301000, true)],
    ['exactly five minutes is not', body('x', retry('300s')), hint(300000)],
    [
      'the 403 of an account to verify',
      {error: {code: 403, message: 'Verify', details: [info('VALIDATION_REQUIRED')]}},
      hint(null, false, 'VALIDATION_REQUIRED'),
    ],
    ['no hint at all', body('Resource has been exhausted (e.g. check quota).'), hint(null)],
  ])('%s', (_, input, expected) => {
    expect(googleRetryHint(input, NOW)).toEqual(expected)
  })

  it.each([
    ['the body as text', JSON.stringify(body('x', retry('5s')))],
    ['the error object itself', body('x', retry('5s')).error],
    ['the array of a non-SSE stream', [body('x', retry('5s'))]],
  ])('accepts %s', (_, input) => {
    expect(googleRetryHint(input, NOW).delayMs).toBe(5000)
  })

  it('reads plain text that is not JSON as the message', () => {
    expect(googleRetryHint('Too many requests, retry after 3s', NOW)).toEqual(hint(3000))
  })

  it.each([undefined, null, 42, {}, {error: 'nope'}])('gives no hint for %j', (input) => {
    expect(googleRetryHint(input, NOW)).toEqual(hint(null))
  })
})

describe('nextShanghaiMidnight', () => {
  it.each([
    ['2026-03-01T10:00:00Z', '2026-03-01T16:00:00Z'],
    ['2026-03-01T15:59:59.999Z', '2026-03-01T16:00:00Z'],
    // 00:00 in Shanghai exactly: the quota was just reset, so the next reset is a day away.
    ['2026-03-01T16:00:00Z', '2026-03-02T16:00:00Z'],
    ['2026-03-01T16:00:00.001Z', '2026-03-02T16:00:00Z'],
    ['2026-12-31T17:00:00Z', '2027-01-01T16:00:00Z'],
    ['2028-02-28T20:00:00Z', '2028-02-29T16:00:00Z'],
  ])('%s → %s', (now, next) => {
    expect(new Date(nextShanghaiMidnight(Date.parse(now))).toISOString()).toBe(new Date(next).toISOString())
  })
})

describe('nextMonthStartUtc', () => {
  it.each([
    ['2026-03-15T12:00:00Z', '2026-04-01T00:00:00Z'],
    ['2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'],
    ['2026-03-31T23:59:59.999Z', '2026-04-01T00:00:00Z'],
    ['2026-12-10T08:00:00Z', '2027-01-01T00:00:00Z'],
    ['2028-01-31T10:00:00Z', '2028-02-01T00:00:00Z'],
  ])('%s → %s', (now, next) => {
    expect(new Date(nextMonthStartUtc(Date.parse(now))).toISOString()).toBe(new Date(next).toISOString())
  })
})
