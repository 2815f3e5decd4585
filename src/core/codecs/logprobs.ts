// Token log probabilities as OpenAI chat completions (`choices[i].logprobs`) and Gemini (`candidates[i].logprobsResult`)
// write them.
import type {IRTokenLogprob} from './ir.js'
import {asArray, asNumber, asObject, asString, isObject, type JsonObject} from './values.js'

type Token = {token: string; logprob: number}

const utf8 = new TextEncoder()

function utf8Bytes(token: string): number[] {
  return Array.from(utf8.encode(token))
}

function openAIToken(value: unknown): Token {
  const entry = asObject(value)
  return {token: asString(entry.token) ?? '', logprob: asNumber(entry.logprob) ?? 0}
}

/** `{content, refusal}`; a refusal's tokens follow the content's, as its text does in the IR. */
export function decodeOpenAILogprobs(value: unknown): IRTokenLogprob[] | undefined {
  if (!isObject(value)) return undefined
  return [...asArray(value.content), ...asArray(value.refusal)].map((item) => ({
    ...openAIToken(item),
    top: asArray(asObject(item).top_logprobs).map(openAIToken),
  }))
}

export function encodeOpenAILogprobs(logprobs: IRTokenLogprob[]): JsonObject {
  const token = ({token, logprob}: Token) => ({token, logprob, bytes: utf8Bytes(token)})
  const content = logprobs.map((entry) => ({...token(entry), top_logprobs: (entry.top ?? []).map(token)}))
  return {content, refusal: null}
}

// proto3 JSON leaves out zero values: a missing logProbability is 0, a missing token ''.
function geminiToken(value: unknown): Token {
  const entry = asObject(value)
  return {token: asString(entry.token) ?? '', logprob: asNumber(entry.logProbability) ?? 0}
}

/** A candidate's `logprobsResult`: the chosen token of each step, with the top candidates of the same step. */
export function decodeGeminiLogprobs(value: unknown): IRTokenLogprob[] | undefined {
  if (!isObject(value)) return undefined
  const tops = asArray(value.topCandidates)
  return asArray(value.chosenCandidates).map((chosen, step) => {
    const top = tops[step]
    const entry = geminiToken(chosen)
    return top === undefined ? entry : {...entry, top: asArray(asObject(top).candidates).map(geminiToken)}
  })
}

/** The candidate fields: `logprobsResult`, and `avgLogprobs` over its tokens. */
export function encodeGeminiLogprobs(logprobs: IRTokenLogprob[]): JsonObject {
  const token = ({token, logprob}: Token) => ({token, logProbability: logprob})
  const sum = logprobs.reduce((total, entry) => total + entry.logprob, 0)
  const result: JsonObject = {chosenCandidates: logprobs.map(token)}
  // Top candidates come only with a count asked for (OpenAI top_logprobs, Gemini logprobs).
  if (logprobs.some((entry) => (entry.top?.length ?? 0) > 0))
    result.topCandidates = logprobs.map((entry) => ({candidates: (entry.top ?? []).map(token)}))
  result.logProbabilitySum = sum
  return {...(logprobs.length > 0 && {avgLogprobs: sum / logprobs.length}), logprobsResult: result}
}
