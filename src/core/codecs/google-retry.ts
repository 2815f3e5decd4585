// Retry hints in Google API error bodies (public Gemini, Code Assist), and the reset instants of the daily and
// monthly quotas other upstreams announce only in prose (upstreams.md §6.4, §8, §9).
import {asArray, asObject, asString, isObject, type JsonObject} from './values.js'

export interface GoogleRetryHint {
  /** How long the server asks us to wait; null when the body names no delay. */
  delayMs: number | null
  /** Waiting a little will not help: a daily or exhausted quota, no credits, or a delay above five minutes. */
  terminal: boolean
  /** `ErrorInfo.reason` (RATE_LIMIT_EXCEEDED, QUOTA_EXHAUSTED, VALIDATION_REQUIRED…), null without one. */
  reason: string | null
}

const RPC = 'type.googleapis.com/google.rpc.'

// gemini-cli treats a longer wait as a lock-out rather than a rate limit.
const MAX_RETRYABLE_MS = 300_000

// Terminal whatever the delay says: the quota is gone for the day, or the account has no credits left.
const TERMINAL_REASONS = new Set(['QUOTA_EXHAUSTED', 'INSUFFICIENT_G1_CREDITS_BALANCE'])

const UNIT_MS: Record<string, number> = {h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6}
// Proto durations ("34.074824224s") and Go durations ("1h2m3.5s", "479.417207ms"); `ms` must be tried before `m`.
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g

// CLIProxyAPI's forms ("reset after 34s.", "resets in 1h2m3s") and gemini-cli's ("Please retry in 900ms"); the
// lookahead rejects words that only start like a duration ("after 5min").
const MESSAGE_DELAY = /(?:after|resets in|please retry in)\s+((?:\d+(?:\.\d+)?(?:h|ms|m|s))+)(?![a-z])/gi

function parseDuration(text: string): number | null {
  const trimmed = text.trim()
  if (!DURATION.test(trimmed)) return null
  let ms = 0
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0)
  return ms
}

// A zero or negative delay is no hint at all: gemini-cli and CLIProxyAPI both skip it.
function positive(ms: number | null): number | null {
  return ms !== null && ms > 0 ? Math.ceil(ms) : null
}

// Accepts the parsed body, its text, the `error` object itself, or the one-element array that
// streamGenerateContent without alt=sse answers with.
function errorOf(body: unknown): JsonObject {
  let value = body
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      return {message: value}
    }
  }
  if (Array.isArray(value)) value = value[0]
  const object = asObject(value)
  return isObject(object.error) ? object.error : object
}

function messageDelay(message: string): number | null {
  for (const match of message.matchAll(MESSAGE_DELAY)) {
    const ms = positive(parseDuration(match[1] ?? ''))
    if (ms !== null) return ms
  }
  return null
}

/**
 * Reads, in order, `RetryInfo.retryDelay`, `ErrorInfo.metadata.quotaResetDelay`, `quotaResetTimeStamp`
 * (against `now`), then a delay written in `error.message`.
 */
export function googleRetryHint(body: unknown, now: number = Date.now()): GoogleRetryHint {
  const error = errorOf(body)
  const details = asArray(error.details).map(asObject)
  const detail = (type: string) => details.find((entry) => entry['@type'] === RPC + type)
  const info = detail('ErrorInfo')
  const metadata = asObject(info?.metadata)
  const message = asString(error.message) ?? ''
  const resetAt = Date.parse(asString(metadata.quotaResetTimeStamp) ?? '')
  const delayMs =
    positive(parseDuration(asString(detail('RetryInfo')?.retryDelay) ?? '')) ??
    positive(parseDuration(asString(metadata.quotaResetDelay ?? metadata.quota_reset_delay) ?? '')) ??
    positive(Number.isNaN(resetAt) ? null : resetAt - now) ??
    messageDelay(message)
  const reason = asString(info?.reason) ?? null
  const daily = asArray(detail('QuotaFailure')?.violations).some((violation) =>
    /PerDay|Daily/.test(asString(asObject(violation).quotaId) ?? ''),
  )
  const terminal =
    (reason !== null && TERMINAL_REASONS.has(reason)) ||
    daily ||
    /\blimit:\s*0\b/.test(message) ||
    (delayMs !== null && delayMs > MAX_RETRYABLE_MS)
  return {delayMs, terminal, reason}
}

const DAY_MS = 86_400_000
// China keeps UTC+8 all year (no daylight saving), so a fixed offset is exact.
const SHANGHAI_OFFSET_MS = 8 * 3_600_000

/** The next 00:00 Asia/Shanghai strictly after `now`: when Qwen's free daily quota comes back. */
export function nextShanghaiMidnight(now: number): number {
  return (Math.floor((now + SHANGHAI_OFFSET_MS) / DAY_MS) + 1) * DAY_MS - SHANGHAI_OFFSET_MS
}

/** 00:00 UTC on the first day of the month after `now`: when Kiro's monthly allowance resets after a 402. */
export function nextMonthStartUtc(now: number): number {
  const date = new Date(now)
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
}
