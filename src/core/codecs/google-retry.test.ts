import {describe, expect, it} from 'vitest'

import {googleRetryHint, nextMonthStartUtc, nextShanghaiMidnight} from './google-retry.js'

const RPC = 'type.googleapis.com/google.rpc.'
const retryInfo = (retryDelay: string) => ({'@type': `${RPC}RetryInfo`, retryDelay})
const errorInfo = (reason: string, metadata: Record<string, string> = {}) => ({
  '@type': `${RPC}ErrorInfo`,
  reason,
  domain: 'cloudcode-pa.googleapis.com',
  metadata,
})
const quotaFailure = (quotaId: string) => ({'@type': `${RPC}QuotaFailure`, violations: [{quotaId, quotaMetric: 'm'}]})
const body = (message: string, ...details: object[]) => ({
  error: {code: 429, status: 'RESOURCE_EXHAUSTED', message, ...(details.length > 0 && {details})},
})

const NOW = Date.parse('2026-03-01T10:00:00Z')

describe('googleRetryHint', () => {
  it.each([
    ['RetryInfo in seconds, rounded up to whole ms', body('x', retryInfo('34.074824224s')), 34075, false, null],
    ['RetryInfo in milliseconds', body('x', retryInfo('900ms')), 900, false, null],
    ['RetryInfo before quotaResetDelay', body('x', errorInfo('RATE_LIMIT_EXCEEDED', {quotaResetDelay: '9s'}), retryInfo('2s')), 2000, false, 'RATE_LIMIT_EXCEEDED'],
    ['quotaResetDelay as a Go duration', body('x', errorInfo('RATE_LIMIT_EXCEEDED', {quotaResetDelay: '1m30.5s'})), 90500, false, 'RATE_LIMIT_EXCEEDED'],
    ['quota_reset_delay spelled in snake_case', body('x', errorInfo('RATE_LIMIT_EXCEEDED', {quota_reset_delay: '479.417207ms'})), 480, false, 'RATE_LIMIT_EXCEEDED'],
    ['quotaResetDelay before the message', body('Your quota will reset after 50s.', errorInfo('R', {quotaResetDelay: '3s'})), 3000, false, 'R'],
    ['quotaResetTimeStamp against now', body('x', errorInfo('R', {quotaResetTimeStamp: '2026-03-01T10:00:42Z'})), 42000, false, 'R'],
    ['a past quotaResetTimeStamp is no hint', body('x', errorInfo('R', {quotaResetTimeStamp: '2026-03-01T09:00:00Z'})), null, false, 'R'],
    ['"after Ns" in the message', body('Quota exceeded. Your quota will reset after 34s.'), 34000, false, null],
    ['"after 1h2m3s" in the message', body('You have exhausted your capacity. Resets after 1h2m3s.'), 3723000, true, null],
    ['"resets in" in the message', body('Limit reached, resets in 2m.'), 120000, false, null],
    ['"Please retry in Ns"', body('Quota exceeded for metric: x. Please retry in 12.5s.'), 12500, false, null],
    ['"Please retry in Nms"', body('Please retry in 250ms'), 250, false, null],
    ['words that only start like a duration', body('Try again after 5min or after 3 hours.'), null, false, null],
    ['a zero RetryInfo falls through to the message', body('reset after 7s', retryInfo('0s')), 7000, false, null],
    ['QUOTA_EXHAUSTED is terminal even with a short delay', body('x', errorInfo('QUOTA_EXHAUSTED'), retryInfo('10s')), 10000, true, 'QUOTA_EXHAUSTED'],
    ['exhausted credits are terminal', body('x', errorInfo('INSUFFICIENT_G1_CREDITS_BALANCE')), null, true, 'INSUFFICIENT_G1_CREDITS_BALANCE'],
    ['a PerDay quota is terminal', body('x', quotaFailure('GenerateRequestsPerDayPerProjectPerModel-FreeTier'), retryInfo('20s')), 20000, true, null],
    ['a Daily quota is terminal', body('x', quotaFailure('DailyRequests')), null, true, null],
    ['a PerMinute quota is not', body('x', quotaFailure('GenerateRequestsPerMinutePerProject')), null, false, null],
    ['"limit: 0" is terminal', body('Quota exceeded for metric: generate_content_free_tier_requests, limit: 0'), null, true, null],
    ['a delay above five minutes is terminal but still reported', body('x', retryInfo('301s')), 301000, true, null],
    ['exactly five minutes is not', body('x', retryInfo('300s')), 300000, false, null],
    ['the 403 of an account to verify', {error: {code: 403, message: 'Verify', details: [errorInfo('VALIDATION_REQUIRED')]}}, null, false, 'VALIDATION_REQUIRED'],
    ['no hint at all', body('Resource has been exhausted (e.g. check quota).'), null, false, null],
  ])('%s', (_, input, delayMs, terminal, reason) => {
    expect(googleRetryHint(input, NOW)).toEqual({delayMs, terminal, reason})
  })

  it.each([
    ['the body as text', JSON.stringify(body('x', retryInfo('5s')))],
    ['the error object itself', body('x', retryInfo('5s')).error],
    ['the array of a non-SSE stream', [body('x', retryInfo('5s'))]],
  ])('accepts %s', (_, input) => {
    expect(googleRetryHint(input, NOW).delayMs).toBe(5000)
  })

  it('reads plain text that is not JSON as the message', () => {
    expect(googleRetryHint('Too many requests, retry after 3s', NOW)).toEqual({delayMs: 3000, terminal: false, reason: null})
  })

  it.each([undefined, null, 42, {}, {error: 'nope'}])('gives no hint for %j', (input) => {
    expect(googleRetryHint(input, NOW)).toEqual({delayMs: null, terminal: false, reason: null})
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
