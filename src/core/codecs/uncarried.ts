import {CodecError} from './errors.js'
import type {IRRequest} from './ir.js'

// Only more than one answer asks for anything: n = 1 is every protocol's default.
export function severalAnswers(count: number | undefined): number | undefined {
  return count !== undefined && count > 1 ? count : undefined
}

// Several answers at once and token log probabilities live in the answer, which the IR carries as one candidate
// without log probabilities: a converted request that asks for them is refused rather than answered without them.
export function refuseUncarried(req: IRRequest): void {
  if (req.candidateCount !== undefined) {
    throw new CodecError(
      `Several answers at once (n / candidateCount = ${req.candidateCount}) are not supported by this upstream; ` +
        'ask for one.',
    )
  }
  if (req.logprobs !== undefined) {
    throw new CodecError('Log probabilities (logprobs / responseLogprobs) are not supported by this upstream.')
  }
}
