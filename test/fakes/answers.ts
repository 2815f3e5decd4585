// Several answers and token log probabilities, for fakes asked for them (OpenAI `n` / `logprobs`, Gemini
// `candidateCount` / `responseLogprobs`). Deterministic, so that tests can predict every field.

/** The reply's text first; each further answer says which it is. */
export function answerTexts(text: string, count: unknown): string[] {
  const n = typeof count === 'number' && count > 1 ? count : 1
  return Array.from({length: n}, (_, i) => (i === 0 ? text : `${text} (answer ${i + 1})`))
}

export interface FakeToken {
  token: string
  logprob: number
  /** The `top` likeliest tokens at this step, the chosen one first */
  top: {token: string; logprob: number}[]
}

/** One token per word with its leading spaces; log probabilities are eighths, so sums are exact */
export function fakeTokens(text: string, top: number): FakeToken[] {
  return (text.match(/\s*\S+/g) ?? []).map((token, i) => {
    const logprob = -(i + 1) / 8
    const others = Array.from({length: Math.max(0, top - 1)}, (_, j) => ({
      token: `${token}~${j + 1}`,
      logprob: logprob - (j + 1),
    }))
    return {token, logprob, top: top > 0 ? [{token, logprob}, ...others] : []}
  })
}
