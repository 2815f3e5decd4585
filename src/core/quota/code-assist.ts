import type {Quota} from './types.js'
import {summarize, type QuotaWindow} from './windows.js'

type Json = Record<string, unknown>

function record(value: unknown): Json | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined
}

/** One `buckets[]` entry of retrieveUserQuota: `{remainingAmount, remainingFraction, resetTime, tokenType, modelId}`. */
function bucketWindow(bucket: Json): QuotaWindow | undefined {
  const fraction = typeof bucket.remainingFraction === 'number' ? bucket.remainingFraction : undefined
  // remainingAmount is an int64, which the JSON carries as a string.
  const amount = typeof bucket.remainingAmount === 'string' ? Number.parseInt(bucket.remainingAmount, 10) : NaN
  const remaining = Number.isFinite(amount) ? amount : undefined
  if (fraction === undefined && remaining === undefined) return undefined
  const reset = typeof bucket.resetTime === 'string' ? Date.parse(bucket.resetTime) : NaN
  const scope = [bucket.modelId, bucket.tokenType].find((s) => typeof s === 'string' && s !== '') as string | undefined
  return {
    scope: scope ?? 'quota',
    percent: fraction === undefined ? undefined : fraction * 100,
    remaining,
    limit:
      remaining !== undefined && fraction !== undefined && fraction > 0 ? Math.round(remaining / fraction) : undefined,
    resetAt: Number.isNaN(reset) ? undefined : reset,
  }
}

/** The tier loadCodeAssist names: the paid one when the account has one, else the current one (`standard-tier`). */
export function codeAssistTier(load: unknown): string | undefined {
  const answer = record(load)
  const id = record(answer?.paidTier)?.id ?? record(answer?.currentTier)?.id
  return typeof id === 'string' && id !== '' ? id : undefined
}

/**
 * Reads Code Assist's `v1internal:retrieveUserQuota` answer (`{buckets: [...]}`, one bucket per model and token
 * type) with the tier from `v1internal:loadCodeAssist`. The buckets are alternatives: the account is out of quota
 * only when every one is empty.
 */
export function readCodeAssistQuota(quota: unknown, load: unknown, now: number): Quota | null {
  const buckets = record(quota)?.buckets
  const windows = (Array.isArray(buckets) ? buckets.map(record) : [])
    .map((b) => b && bucketWindow(b))
    .filter((w) => w !== undefined)
  const tier = codeAssistTier(load)
  return summarize(windows, {source: 'user-quota', now, exhaustedWhen: 'all', ...(tier !== undefined && {tier})})
}
