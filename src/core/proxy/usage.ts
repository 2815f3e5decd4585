import type {IRUsage} from '../codecs/ir.js'
import {tokenUsage} from '../usage/extract.js'
import type {TokenUsage} from '../usage/tokens.js'
import type {AttemptContext} from './context.js'
import {CHARS_PER_TOKEN, estimateInputTokens} from './estimate.js'

/**
 * The usage of a whole answer: the upstream's own counts when it reported them, otherwise ours, marked as such.
 * An estimate reads input from the client's request (or from what a decoder guessed, Kiro's context percentage)
 * and output from the characters the model wrote.
 */
export function answerUsage(ctx: AttemptContext, reported: IRUsage | undefined, outputChars: () => number): TokenUsage {
  if (reported && !reported.estimated) return tokenUsage(reported)
  return {
    input: reported?.inputTokens || estimatedInput(ctx),
    output: Math.ceil(outputChars() / CHARS_PER_TOKEN),
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    estimated: true,
  }
}

/** The usage of an answer cut short: only what the upstream reported before it broke, never a guess. */
export function partialUsage(reported: IRUsage | undefined): TokenUsage | undefined {
  return reported && !reported.estimated ? tokenUsage(reported) : undefined
}

function estimatedInput({deps, call}: AttemptContext): number {
  try {
    return estimateInputTokens(
      deps.codecs[call.protocol].decodeRequest(call.json, {model: call.model, stream: call.stream}),
    )
  } catch {
    // A request the codec cannot read (another operation's body) has no estimate.
    return 0
  }
}
