import {OAuthError} from './errors.js'
import {realSleep, throwIfCancelled, type FlowContext} from './flow.js'

export type PollOutcome<T> =
  | {kind: 'token'; token: T}
  | {kind: 'pending'}
  | {kind: 'slow_down'}
  /** A failure worth another try (network, 5xx): reported, then polling goes on. */
  | {kind: 'retry'; message: string}

export interface PollRules {
  /** The first wait, and the wait after `pending`. */
  intervalMs: number
  /** The next interval after `slow_down`. */
  slowDown: (intervalMs: number) => number
  /** qwen-code goes back to the base interval on every `pending`; RFC 8628 keeps the slowed-down one. */
  resetOnPending: boolean
}

/** qwen-code's rules: 2 s (or the server's interval), slow_down ×1.5 up to 10 s, pending resets. */
export function qwenPollRules(serverIntervalSeconds?: number): PollRules {
  return {
    intervalMs: positive(serverIntervalSeconds) ? serverIntervalSeconds * 1000 : 2000,
    slowDown: (ms) => Math.min(ms * 1.5, 10_000),
    resetOnPending: true,
  }
}

/** RFC 8628 §3.5: the server's interval (5 s when absent), slow_down adds 5 s for the rest of the flow. */
export function rfc8628PollRules(serverIntervalSeconds?: number): PollRules {
  return {
    intervalMs: positive(serverIntervalSeconds) ? serverIntervalSeconds * 1000 : 5000,
    slowDown: (ms) => ms + 5000,
    resetOnPending: false,
  }
}

/**
 * Polls the token endpoint until it answers with a token, fails, or the device code expires: poll, then wait the
 * interval the rules give for that answer. `poll` throws to stop (denied, expired, rejected).
 */
export async function pollForToken<T>(
  poll: () => Promise<PollOutcome<T>>,
  rules: PollRules,
  expiresAt: number,
  ctx: FlowContext,
): Promise<T> {
  const sleep = ctx.sleep ?? realSleep
  const now = ctx.now ?? Date.now
  let interval = rules.intervalMs
  for (;;) {
    throwIfCancelled(ctx.signal)
    const outcome = await poll()
    if (outcome.kind === 'token') return outcome.token
    if (outcome.kind === 'slow_down') interval = rules.slowDown(interval)
    else if (outcome.kind === 'pending' && rules.resetOnPending) interval = rules.intervalMs
    if (now() + interval >= expiresAt) {
      throw new OAuthError('The device code expired before the login was approved.', 'oauth_expired', [
        'Run the login again and approve it in time.',
      ])
    }
    ctx.onEvent?.(
      outcome.kind === 'retry'
        ? {type: 'poll', outcome: 'network_error', nextPollMs: interval, message: outcome.message}
        : {type: 'poll', outcome: outcome.kind, nextPollMs: interval},
    )
    await sleep(interval, ctx.signal)
  }
}

function positive(value: number | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}
