import {TOKEN_KINDS, type TokenKind, type TokenUsage} from './tokens.js'

/**
 * Tokens added up over many answers, by kind, in the answers' convention (TokenUsage's, the same for every vendor):
 * `input` is the input neither read from nor written to a cache, so all input is input + cacheRead + cacheWrite;
 * `output` includes `reasoning`. The total is all input plus output. `estimated` is the part of that total that was
 * our estimate rather than the upstream's figure.
 */
export type TokenTotals = Record<TokenKind | 'estimated', number>

export const TOTAL_KEYS = [...TOKEN_KINDS, 'estimated'] as const satisfies readonly (keyof TokenTotals)[]

/** The pool entry's field for each total, beside `usageCount`; flat whole numbers that other tools can ignore. */
export const TOKEN_FIELDS = {
  input: 'inputTokens',
  output: 'outputTokens',
  cacheRead: 'cacheReadTokens',
  cacheWrite: 'cacheWriteTokens',
  reasoning: 'reasoningTokens',
  estimated: 'estimatedTokens',
} as const satisfies Record<keyof TokenTotals, string>

export function zeroTotals(): TokenTotals {
  return {input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: 0}
}

export function totalOf(totals: Pick<TokenTotals, 'input' | 'cacheRead' | 'cacheWrite' | 'output'>): number {
  return totals.input + totals.cacheRead + totals.cacheWrite + totals.output
}

export function isZero(totals: TokenTotals): boolean {
  return TOTAL_KEYS.every((key) => totals[key] === 0)
}

/** Adds one answer's usage; a count that is not a number ≥ 0 (a confused upstream) is left out. */
export function addUsage(into: TokenTotals, usage: TokenUsage): void {
  // Spelt out rather than looped over the kinds: this runs for every answer, twice.
  const input = count(usage.input)
  const output = count(usage.output)
  into.input += input
  into.output += output
  into.cacheRead += count(usage.cacheRead)
  into.cacheWrite += count(usage.cacheWrite)
  into.reasoning += count(usage.reasoning)
  if (usage.estimated) into.estimated += input + output
}

export function addTotals(into: TokenTotals, from: TokenTotals): void {
  for (const key of TOTAL_KEYS) into[key] += from[key]
}

/** The totals a pool entry holds; a field that is missing or not a count reads as 0. */
export function totalsOfEntry(raw: Record<string, unknown>): TokenTotals {
  const totals = zeroTotals()
  for (const key of TOTAL_KEYS) totals[key] = count(raw[TOKEN_FIELDS[key]])
  return totals
}

/** Adds `delta` to the entry's fields, creating only those that grow: an entry never counted keeps its shape. */
export function addToEntry(raw: Record<string, unknown>, delta: TokenTotals): void {
  for (const key of TOTAL_KEYS) {
    if (delta[key] === 0) continue
    const field = TOKEN_FIELDS[key]
    raw[field] = count(raw[field]) + delta[key]
  }
}

/** A count as the file keeps it: a whole number ≥ 0 (an estimate may come with a fraction). */
function count(value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || value === Infinity) return 0
  return Number.isInteger(value) ? value : Math.round(value)
}
