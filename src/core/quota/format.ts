import type {Quota} from './types.js'

/** "42s", "6m00s", "3h12m", "12d4h". */
export function shortSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d}d${h}h`
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${s}s`
}

/** Whole percent, rounded down so that 0 means nothing is left; "<1" for a sliver. */
function percent(value: number): string {
  return value > 0 && value < 1 ? '<1' : String(Math.floor(value))
}

/**
 * A quota for `pool list` and the board: `62 % left, resets in 3h12m`; `compact` gives `62% 3h12m`. Parts the vendor
 * did not report are left out; a reading with no figures names the tier; none at all is `-`.
 */
export function describeQuota(quota: Quota | null, now: number, compact = false): string {
  if (!quota) return '-'
  const left =
    quota.remainingPercent !== undefined
      ? compact
        ? `${percent(quota.remainingPercent)}%`
        : `${percent(quota.remainingPercent)} % left`
      : quota.remaining !== undefined
        ? compact
          ? String(quota.remaining)
          : `${quota.remaining} left`
        : undefined
  if (left === undefined) return quota.tier ?? '-'
  const reset = quota.resetAt === undefined ? NaN : Date.parse(quota.resetAt)
  if (Number.isNaN(reset)) return left
  // A reset already past: the figure is from before it, and the allowance has likely refilled.
  if (reset <= now) return compact ? `${left} old` : `${left}, reset passed`
  return compact ? `${left} ${shortSpan(reset - now)}` : `${left}, resets in ${shortSpan(reset - now)}`
}
