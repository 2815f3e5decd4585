import {describe, expect, it} from 'vitest'
import {readCodeAssistQuota} from './code-assist.js'
import {describeQuota} from './format.js'
import {anthropicRateLimits, openAIRateLimits, parseResetDuration} from './headers.js'
import {readKiroUsageLimits} from './kiro.js'
import {exhaustedFor, latestQuota, storedQuota, type Quota} from './types.js'

const NOW = Date.parse('2026-12-04T12:00:00Z')
const at = (ms: number) => new Date(NOW + ms).toISOString()
const MIN = 60_000

describe('rate-limit headers', () => {
  it('reads OpenAI durations, and shows the tighter of the requests and tokens windows', () => {
    expect(parseResetDuration('6m0s')).toBe(6 * MIN)
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500)
    expect(parseResetDuration('20ms')).toBe(20)
    expect(parseResetDuration('soon')).toBeUndefined()
    const quota = openAIRateLimits(
      {
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '310',
        'x-ratelimit-reset-requests': '3h12m0s',
        'x-ratelimit-limit-tokens': '200000',
        'x-ratelimit-remaining-tokens': '190000',
        'x-ratelimit-reset-tokens': '1s',
      },
      NOW,
    )
    expect(quota).toEqual({
      remainingPercent: 62,
      remaining: 310,
      limit: 500,
      resetAt: at(192 * MIN),
      scope: 'requests',
      exhausted: false,
      source: 'rate-limit-headers',
      checkedAt: at(0),
    })
    expect(openAIRateLimits({'x-request-id': 'r'}, NOW)).toBeNull()
    // Some compatible servers send 0 of 0 for "unlimited": no reading, and certainly no spent quota.
    expect(openAIRateLimits({'x-ratelimit-limit-requests': '0', 'x-ratelimit-remaining-requests': '0'}, NOW)).toBeNull()
  })

  it('an empty window makes the key wait for that window', () => {
    const quota = openAIRateLimits(
      {
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '499',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-limit-tokens': '1000',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '6m0s',
      },
      NOW,
    )
    expect(quota).toMatchObject({exhausted: true, scope: 'tokens', remainingPercent: 0, resetAt: at(6 * MIN)})
    expect(exhaustedFor(quota, NOW)).toEqual({ms: 6 * MIN})
  })

  it("reads Anthropic's key windows (RFC 3339) and a subscription's unified windows (epoch seconds)", () => {
    const keyed = anthropicRateLimits(
      {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': at(MIN),
        'anthropic-ratelimit-tokens-limit': '40000',
        'anthropic-ratelimit-tokens-remaining': '10000',
        'anthropic-ratelimit-tokens-reset': at(2 * MIN),
      },
      NOW,
    )
    expect(keyed).toMatchObject({remainingPercent: 25, remaining: 10000, scope: 'tokens', resetAt: at(2 * MIN)})
    const unified = anthropicRateLimits(
      {
        'anthropic-ratelimit-unified-5h-utilization': '0.38',
        'anthropic-ratelimit-unified-5h-reset': String((NOW + 192 * MIN) / 1000),
        'anthropic-ratelimit-unified-5h-status': 'allowed',
        'anthropic-ratelimit-unified-7d-utilization': '0.1',
        'anthropic-ratelimit-unified-7d-reset': String((NOW + 3 * 86_400_000) / 1000),
        'anthropic-ratelimit-unified-7d-status': 'allowed',
      },
      NOW,
    )
    expect(unified).toMatchObject({remainingPercent: 62, scope: '5h', resetAt: at(192 * MIN), exhausted: false})
    const rejected = anthropicRateLimits(
      {
        'anthropic-ratelimit-unified-7d-utilization': '0.97',
        'anthropic-ratelimit-unified-7d-reset': String((NOW + 86_400_000) / 1000),
        'anthropic-ratelimit-unified-7d-status': 'rejected',
      },
      NOW,
    )
    expect(rejected).toMatchObject({exhausted: true, scope: '7d', resetAt: at(86_400_000)})
  })
})

describe('vendor quota answers', () => {
  it("Kiro's allowance adds an active free trial, and runs out when everything is used", () => {
    const reset = (NOW + 10 * 86_400_000) / 1000
    const answer = (used: number, trial: 'ACTIVE' | 'EXPIRED') => ({
      nextDateReset: reset,
      subscriptionInfo: {subscriptionTitle: 'KIRO FREE'},
      userInfo: {email: 'someone@example.com'},
      usageBreakdownList: [
        {
          resourceType: 'AGENTIC_REQUEST',
          currentUsage: used,
          currentUsageWithPrecision: used,
          usageLimit: 50,
          usageLimitWithPrecision: 50,
          nextDateReset: reset,
          freeTrialInfo: {currentUsage: 0, usageLimit: 50, freeTrialStatus: trial, freeTrialExpiry: reset},
        },
      ],
    })
    const active = readKiroUsageLimits(answer(38, 'ACTIVE'), NOW)
    expect(active).toEqual({
      remainingPercent: 62,
      remaining: 62,
      limit: 100,
      resetAt: at(10 * 86_400_000),
      tier: 'KIRO FREE',
      scope: 'AGENTIC_REQUEST',
      exhausted: false,
      source: 'usage-limits',
      checkedAt: at(0),
    })
    expect(JSON.stringify(active)).not.toContain('example.com')
    expect(readKiroUsageLimits(answer(50, 'EXPIRED'), NOW)).toMatchObject({exhausted: true, remaining: 0})
    expect(readKiroUsageLimits('<html>', NOW)).toBeNull()
  })

  it("Code Assist's buckets are per model: the account is out only when every one is empty", () => {
    const bucket = (modelId: string, fraction: number) => ({
      remainingAmount: String(Math.round(fraction * 1000)),
      remainingFraction: fraction,
      resetTime: at(5 * 3_600_000),
      tokenType: 'REQUESTS',
      modelId,
    })
    const load = {currentTier: {id: 'standard-tier', name: 'Gemini Code Assist'}}
    const some = readCodeAssistQuota(
      {buckets: [bucket('gemini-2.5-pro', 0), bucket('gemini-2.5-flash', 0.5)]},
      load,
      NOW,
    )
    expect(some).toMatchObject({remainingPercent: 0, scope: 'gemini-2.5-pro', exhausted: false, tier: 'standard-tier'})
    const none = readCodeAssistQuota({buckets: [bucket('gemini-2.5-pro', 0), bucket('gemini-2.5-flash', 0)]}, load, NOW)
    expect(none).toMatchObject({exhausted: true, resetAt: at(5 * 3_600_000), source: 'user-quota'})
    expect(readCodeAssistQuota({buckets: [bucket('gemini-2.5-pro', 0.25)]}, {}, NOW)).toMatchObject({
      remainingPercent: 25,
      remaining: 250,
      limit: 1000,
    })
    // No buckets: the tier is still worth keeping.
    expect(readCodeAssistQuota(undefined, load, NOW)).toMatchObject({tier: 'standard-tier', exhausted: false})
  })
})

describe('describeQuota', () => {
  const quota = (fields: Partial<Quota>): Quota => ({
    exhausted: false,
    source: 'usage-limits',
    checkedAt: at(0),
    ...fields,
  })
  it('says what is left and when it refills, leaving out what the vendor did not say', () => {
    expect(describeQuota(quota({remainingPercent: 62.9, resetAt: at(192 * MIN)}), NOW)).toBe(
      '62 % left, resets in 3h12m',
    )
    expect(describeQuota(quota({remainingPercent: 62.9, resetAt: at(192 * MIN)}), NOW, true)).toBe('62% 3h12m')
    expect(describeQuota(quota({remainingPercent: 0.4}), NOW)).toBe('<1 % left')
    expect(describeQuota(quota({remaining: 12, resetAt: at(90_000)}), NOW)).toBe('12 left, resets in 1m30s')
    expect(describeQuota(quota({remainingPercent: 10, resetAt: at(12 * 86_400_000 + 4 * 3_600_000)}), NOW)).toBe(
      '10 % left, resets in 12d4h',
    )
    expect(describeQuota(quota({remainingPercent: 10, resetAt: at(-MIN)}), NOW)).toBe('10 % left, reset passed')
    expect(describeQuota(quota({tier: 'standard-tier'}), NOW)).toBe('standard-tier')
    expect(describeQuota(null, NOW)).toBe('-')
  })

  it('a stored quota is read back only when it has the shape written; the later of two readings wins', () => {
    expect(storedQuota({remainingPercent: 'lots', source: 'usage-limits', checkedAt: at(0)})).toEqual({
      exhausted: false,
      source: 'usage-limits',
      checkedAt: at(0),
    })
    expect(storedQuota({source: 'guess', checkedAt: at(0)})).toBeNull()
    expect(storedQuota('62%')).toBeNull()
    const old = quota({remainingPercent: 80, checkedAt: at(-MIN)})
    const fresh = quota({remainingPercent: 60})
    expect(latestQuota(old, fresh)).toBe(fresh)
    expect(latestQuota(fresh, old)).toBe(fresh)
    expect(latestQuota(null, old)).toBe(old)
    // A spent quota whose reset has passed is stale: nothing to wait for.
    expect(exhaustedFor(quota({exhausted: true, resetAt: at(-1)}), NOW)).toBeNull()
    expect(exhaustedFor(quota({exhausted: true}), NOW)).toEqual({ms: null})
  })
})
