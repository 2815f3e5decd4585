// How a Kiro answer ends: its usage and stop reason, worked out when the bytes run out since Kiro has no
// terminal event (upstreams.md §7.4).
//
// Usage comes from `metadataEvent.tokenUsage` when Kiro sends one. Otherwise output is estimated as
// characters / 4 (CLIProxyAPIPlus) over text, thinking and tool calls, and input as the context window
// (1M for Opus, else 200k) × `contextUsagePercentage` / 100 minus that output (AIClient-2-API), 0 without
// a percentage.
import type {IRStopReason, IRUsage} from '../ir.js'
import {asNumber, compact, type JsonObject} from '../values.js'
import {kiroContextWindow} from './models.js'

const STOP_REASONS = new Map<string, IRStopReason>([
  ['END_TURN', 'end_turn'],
  ['TOOL_USE', 'tool_use'],
  ['MAX_TOKENS', 'max_tokens'],
  ['MODEL_CONTEXT_WINDOW_EXCEEDED', 'max_tokens'],
  ['CONTENT_FILTERED', 'content_filter'],
  ['PAUSE_TURN', 'other'],
])

export interface KiroUsageReport {
  model: string | undefined
  // `metadataEvent.tokenUsage`, if Kiro sent one.
  tokenUsage: JsonObject | undefined
  // Characters of text, thinking and tool calls sent to the client.
  outputChars: number
  // The last `contextUsageEvent.contextUsagePercentage`.
  contextPercent: number | undefined
}

export function kiroUsage({model, tokenUsage, outputChars, contextPercent}: KiroUsageReport): IRUsage {
  const reported = tokenUsage ?? {}
  const outputTokens = asNumber(reported.outputTokens) ?? Math.ceil(outputChars / 4)
  const cacheRead = asNumber(reported.cacheReadInputTokens)
  const cacheWrite = asNumber(reported.cacheWriteInputTokens)
  const uncached = asNumber(reported.uncachedInputTokens)
  const window = kiroContextWindow(model)
  const estimated = contextPercent === undefined ? 0 : Math.round((window * contextPercent) / 100) - outputTokens
  const inputTokens = uncached === undefined ? Math.max(0, estimated) : uncached + (cacheRead ?? 0) + (cacheWrite ?? 0)
  // Counts Kiro did not give in full are ours, and said to be: a record never mixes the two.
  const guessed = uncached === undefined || asNumber(reported.outputTokens) === undefined
  return compact({
    inputTokens,
    outputTokens,
    cachedInputTokens: cacheRead,
    cacheCreationInputTokens: cacheWrite,
    estimated: guessed || undefined,
  })
}

// Kiro's own reason wins, except that a turn with tool calls must say tool_use for clients to run them.
// Without one: an answer that is only reasoning ran out of tokens while thinking.
export function kiroStopReason(
  stopReason: string | undefined,
  seen: {text: boolean; thinking: boolean; toolCall: boolean},
): IRStopReason {
  const reported = stopReason === undefined ? undefined : STOP_REASONS.get(stopReason)
  if (seen.toolCall && (reported === undefined || reported === 'end_turn')) return 'tool_use'
  if (reported) return reported
  return seen.thinking && !seen.text ? 'max_tokens' : 'end_turn'
}
