import type {Quota} from './types.js'
import {summarize} from './windows.js'

/**
 * Kiro's usage limits: `GET {KIRO_BASE_URL}/getUsageLimits` with the instance's bearer token, as the Kiro IDE asks
 * for them. Only the agentic-request allowance limits what the proxy sends; the e-mail address is not asked for.
 * A social login names its profile, as its generation requests do.
 */
export function kiroUsageLimitsPath(profileArn?: string): string {
  const query = new URLSearchParams({origin: 'AI_EDITOR', resourceType: 'AGENTIC_REQUEST', isEmailRequired: 'false'})
  if (profileArn) query.set('profileArn', profileArn)
  return `/getUsageLimits?${query.toString()}`
}

type Json = Record<string, unknown>

function record(value: unknown): Json | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** `nextDateReset` and its kin: epoch seconds (sometimes milliseconds, sometimes an ISO string). */
function time(value: unknown): number | undefined {
  const n = number(value)
  if (n !== undefined) return n < 10_000_000_000 ? n * 1000 : n
  const parsed = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isNaN(parsed) ? undefined : parsed
}

/** Used and allowed of one part of the allowance; the `…WithPrecision` figures are the exact ones when present. */
function usage(part: Json): {used: number; limit: number} | undefined {
  const used = number(part.currentUsageWithPrecision) ?? number(part.currentUsage)
  const limit = number(part.usageLimitWithPrecision) ?? number(part.usageLimit)
  return used === undefined || limit === undefined ? undefined : {used, limit}
}

/**
 * The allowance of one `usageBreakdownList` entry: the plan's own, plus an active free trial and active bonuses,
 * which Kiro spends alongside it.
 */
function allowance(entry: Json): {used: number; limit: number} | undefined {
  const trial = record(entry.freeTrialInfo)
  const bonuses = Array.isArray(entry.bonuses) ? entry.bonuses.map(record) : []
  const parts = [
    usage(entry),
    trial && trial.freeTrialStatus === 'ACTIVE' ? usage(trial) : undefined,
    ...bonuses.map((b) => (b && (b.status === undefined || b.status === 'ACTIVE') ? usage(b) : undefined)),
  ].filter((p) => p !== undefined)
  if (parts.length === 0) return undefined
  return parts.reduce((sum, p) => ({used: sum.used + p.used, limit: sum.limit + p.limit}))
}

/**
 * Reads a getUsageLimits answer: `usageBreakdownList[]` of `{resourceType, currentUsage, usageLimit, nextDateReset,
 * freeTrialInfo, bonuses}`, the top-level `nextDateReset`, and `subscriptionInfo.subscriptionTitle` as the tier.
 */
export function readKiroUsageLimits(body: unknown, now: number): Quota | null {
  const answer = record(body)
  if (!answer) return null
  const list = Array.isArray(answer.usageBreakdownList) ? answer.usageBreakdownList.map(record) : []
  const entry = list.find((e) => e?.resourceType === 'AGENTIC_REQUEST') ?? list.find((e) => e !== undefined)
  const counts = entry && allowance(entry)
  const title = record(answer.subscriptionInfo)?.subscriptionTitle
  return summarize(
    counts
      ? [
          {
            scope: typeof entry.resourceType === 'string' ? entry.resourceType : 'AGENTIC_REQUEST',
            remaining: Math.max(0, counts.limit - counts.used),
            limit: counts.limit,
            resetAt: time(entry.nextDateReset) ?? time(answer.nextDateReset),
          },
        ]
      : [],
    {
      source: 'usage-limits',
      now,
      exhaustedWhen: 'any',
      ...(typeof title === 'string' && title !== '' && {tier: title}),
    },
  )
}
