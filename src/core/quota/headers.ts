import type {Quota} from './types.js'
import {summarize, type QuotaWindow} from './windows.js'

type Headers = Record<string, string | string[] | undefined>

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined || first.trim() === '' ? undefined : first.trim()
}

function count(headers: Headers, name: string): number | undefined {
  const text = header(headers, name)
  const value = text === undefined ? NaN : Number(text)
  return Number.isFinite(value) ? value : undefined
}

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** OpenAI's reset durations: `1s`, `6m0s`, `1h2m3.5s`, `20ms`; undefined for anything else. */
export function parseResetDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (!/^(\d+(\.\d+)?(ms|d|h|m|s))+$/.test(trimmed)) return undefined
  let total = 0
  for (const [, value, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|d|h|m|s)/g)) total += Number(value) * UNITS[unit!]!
  return Math.round(total)
}

/**
 * OpenAI's rate-limit headers (also sent by OpenAI-compatible servers): `x-ratelimit-{limit,remaining,reset}-`
 * `{requests,tokens}`, the reset a duration from now. Either window running out stops every request.
 */
export function openAIRateLimits(headers: Headers, now: number): Quota | null {
  const windows = ['requests', 'tokens'].map((scope): QuotaWindow => {
    const reset = header(headers, `x-ratelimit-reset-${scope}`)
    const ms = reset === undefined ? undefined : parseResetDuration(reset)
    return {
      scope,
      limit: count(headers, `x-ratelimit-limit-${scope}`),
      remaining: count(headers, `x-ratelimit-remaining-${scope}`),
      resetAt: ms === undefined ? undefined : now + ms,
    }
  })
  return summarize(windows, {source: 'rate-limit-headers', now, exhaustedWhen: 'any'})
}

/**
 * Anthropic's rate-limit headers: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-`
 * `{limit,remaining,reset}` (reset in RFC 3339) for API keys, and the subscription windows
 * `anthropic-ratelimit-unified-{5h,7d}-{utilization,reset,status}` (utilization a used share 0–1, reset in epoch
 * seconds, status `rejected` once the window is spent).
 */
export function anthropicRateLimits(headers: Headers, now: number): Quota | null {
  const keyed = ['requests', 'tokens', 'input-tokens', 'output-tokens'].map((scope): QuotaWindow => {
    const reset = Date.parse(header(headers, `anthropic-ratelimit-${scope}-reset`) ?? '')
    return {
      scope,
      limit: count(headers, `anthropic-ratelimit-${scope}-limit`),
      remaining: count(headers, `anthropic-ratelimit-${scope}-remaining`),
      resetAt: Number.isNaN(reset) ? undefined : reset,
    }
  })
  const unified = ['5h', '7d'].map((scope): QuotaWindow => {
    const used = count(headers, `anthropic-ratelimit-unified-${scope}-utilization`)
    const reset = count(headers, `anthropic-ratelimit-unified-${scope}-reset`)
    return {
      scope,
      percent: used === undefined ? undefined : (1 - used) * 100,
      resetAt: reset === undefined ? undefined : reset * 1000,
      refused: header(headers, `anthropic-ratelimit-unified-${scope}-status`) === 'rejected',
    }
  })
  return summarize([...keyed, ...unified], {source: 'rate-limit-headers', now, exhaustedWhen: 'any'})
}
