import {CodecError} from './errors.js'
import type {IRRequest, IRResponse} from './ir.js'
import type {DropHandler} from './types.js'

// Only more than one answer asks for anything: n = 1 is every protocol's default.
export function severalAnswers(count: number | undefined): number | undefined {
  return count !== undefined && count > 1 ? count : undefined
}

const severalAsked = (count: number) => `Several answers at once (n / candidateCount = ${count})`
const LOGPROBS_ASKED = 'Log probabilities (logprobs / responseLogprobs)'

// Several answers and token log probabilities map between OpenAI chat completions and Gemini only: an upstream of
// another protocol has no way to give them, so the request is refused rather than answered without them.
export function refuseUncarried(req: IRRequest): void {
  if (req.candidateCount !== undefined)
    throw new CodecError(`${severalAsked(req.candidateCount)} are not supported by this upstream; ask for one.`)
  if (req.logprobs !== undefined) throw new CodecError(`${LOGPROBS_ASKED} are not supported by this upstream.`)
}

// Between OpenAI and Gemini they map; a converted stream carries log probabilities but only one answer.
export function refuseStreamedUncarried(req: IRRequest): void {
  if (req.stream && req.candidateCount !== undefined) {
    throw new CodecError(
      `${severalAsked(req.candidateCount)} cannot be streamed through this upstream; ask without streaming, or for one.`,
    )
  }
}

// For answer encoders of protocols without them: only an upstream that sent them unasked gets here.
export function reportUncarriedAnswer(res: IRResponse, drop: DropHandler): void {
  if (res.alternatives) drop('candidates[1..]')
  if (res.logprobs) drop('logprobs')
}
