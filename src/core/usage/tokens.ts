/**
 * The tokens one answer used, by kind. `estimated` is true when the upstream reported nothing and the counts are
 * ours (characters / CHARS_PER_TOKEN); an upstream's own figures are never mixed with an estimate.
 */
export interface TokenUsage {
  input: number
  output: number
  cacheRead: number
  cacheWrite: number
  reasoning: number
  estimated: boolean
}

export const TOKEN_KINDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning'] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]
