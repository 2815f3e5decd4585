/** Where a quota reading came from: Kiro's usage limits, Code Assist's user quota, or an answer's rate-limit headers. */
export type QuotaSource = 'usage-limits' | 'user-quota' | 'rate-limit-headers'

/**
 * What is left of an account's quota as its vendor last reported it, kept in the pool entry as `quota`. Vendors say
 * different things, so every figure is optional; the figures are those of the tightest limit reported.
 */
export interface Quota {
  /** 0–100. */
  remainingPercent?: number
  remaining?: number
  limit?: number
  /** When the limit shown refills (ISO). */
  resetAt?: string
  /** The account's plan as the vendor names it (`standard-tier`, `KIRO FREE`). */
  tier?: string
  /** What the figures count: `requests`, `tokens`, a model id, a Kiro resource type, Anthropic's `5h` window. */
  scope?: string
  /** Nothing is left until `resetAt`: the instance rests until then. */
  exhausted: boolean
  source: QuotaSource
  checkedAt: string
}

const SOURCES: readonly string[] = ['usage-limits', 'user-quota', 'rate-limit-headers']

/** The quota a pool entry holds, or null when it holds none (or something else under that name). */
export function storedQuota(value: unknown): Quota | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const q = value as Record<string, unknown>
  if (typeof q.source !== 'string' || !SOURCES.includes(q.source) || typeof q.checkedAt !== 'string') return null
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  return withoutEmpty({
    remainingPercent: number(q.remainingPercent),
    remaining: number(q.remaining),
    limit: number(q.limit),
    resetAt: text(q.resetAt),
    tier: text(q.tier),
    scope: text(q.scope),
    exhausted: q.exhausted === true,
    source: q.source as QuotaSource,
    checkedAt: q.checkedAt,
  })
}

/** The later of two readings of the same instance (serve's own and one `pool check` wrote to the file). */
export function latestQuota(a: Quota | null, b: Quota | null): Quota | null {
  if (!a || !b) return a ?? b
  return Date.parse(b.checkedAt) > Date.parse(a.checkedAt) ? b : a
}

/** How long an exhausted quota keeps the instance out: until its reset; null when the vendor named none. */
export function exhaustedFor(quota: Quota | null, now: number): {ms: number | null} | null {
  if (!quota?.exhausted) return null
  if (quota.resetAt === undefined) return {ms: null}
  const reset = Date.parse(quota.resetAt)
  if (Number.isNaN(reset)) return {ms: null}
  // A reset already past means the reading is stale: the allowance has refilled since.
  return reset > now ? {ms: reset - now} : null
}

/** Drops the fields that are undefined, so the pool file holds only what the vendor said. */
export function withoutEmpty<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
