import {withoutEmpty, type Quota, type QuotaSource} from './types.js'

/** One limit a vendor reported: a rate-limit window, a model's bucket, a monthly allowance. */
export interface QuotaWindow {
  scope: string
  remaining?: number
  limit?: number
  /** 0–100, when the vendor reports a share instead of (or besides) counts. */
  percent?: number
  /** Milliseconds since the epoch. */
  resetAt?: number
  /** The vendor said outright that this limit refuses requests now. */
  refused?: boolean
}

function percentOf(w: QuotaWindow): number | undefined {
  if (w.percent !== undefined) return Math.max(0, Math.min(100, w.percent))
  if (w.remaining !== undefined && w.limit !== undefined && w.limit > 0)
    return Math.max(0, Math.min(100, (w.remaining / w.limit) * 100))
  return undefined
}

function empty(w: QuotaWindow): boolean {
  return w.refused === true || (w.remaining !== undefined ? w.remaining <= 0 : percentOf(w) === 0)
}

export interface Reading {
  source: QuotaSource
  now: number
  tier?: string
  /**
   * `any`: one empty window stops every request (requests and tokens of one key). `all`: the windows are
   * alternatives (Code Assist's per-model buckets), so the account is out only when every one is empty.
   */
  exhaustedWhen: 'any' | 'all'
}

/**
 * The pool entry's reading of several limits: the tightest one is shown; when the account is out, the window it
 * waits for is the one whose reset comes last, since nothing is usable before then.
 */
export function summarize(windows: readonly QuotaWindow[], reading: Reading): Quota | null {
  // A limit of 0 is how some OpenAI-compatible servers say "no limit": it must not read as a spent one.
  const known = windows.filter(
    (w) =>
      !(w.limit !== undefined && w.limit <= 0) &&
      (w.refused || w.remaining !== undefined || percentOf(w) !== undefined),
  )
  if (known.length === 0 && reading.tier === undefined) return null
  const emptyOnes = known.filter(empty)
  const exhausted = emptyOnes.length > 0 && (reading.exhaustedWhen === 'any' || emptyOnes.length === known.length)
  const latest = (a: QuotaWindow, b: QuotaWindow) => ((b.resetAt ?? 0) > (a.resetAt ?? 0) ? b : a)
  const tightest = (a: QuotaWindow, b: QuotaWindow) => ((percentOf(b) ?? 100) < (percentOf(a) ?? 100) ? b : a)
  const shown = exhausted ? emptyOnes.reduce(latest) : known.length > 0 ? known.reduce(tightest) : undefined
  const percent = shown && percentOf(shown)
  return withoutEmpty({
    remainingPercent: percent === undefined ? (shown && empty(shown) ? 0 : undefined) : round(percent),
    remaining: shown?.remaining,
    limit: shown?.limit,
    resetAt: shown?.resetAt === undefined ? undefined : new Date(shown.resetAt).toISOString(),
    tier: reading.tier,
    scope: shown?.scope,
    exhausted,
    source: reading.source,
    checkedAt: new Date(reading.now).toISOString(),
  })
}

function round(percent: number): number {
  return Math.round(percent * 10) / 10
}
