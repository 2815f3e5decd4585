import type {HealthPolicy} from '../pools/pool-state.js'
import {describeOutcome, type Outcome} from '../providers/outcome.js'

/** What a failed attempt does to its instance. */
export type Effect =
  | {kind: 'none'}
  /** Rest it; `capped` false for a quota whose reset the upstream named (next day, next month). */
  | {kind: 'cool'; ms: number; capped: boolean; reason: string}
  /** Out of rotation until a probe or a success brings it back. */
  | {kind: 'unhealthy'; reason: string}
  /** One more error in its streak (`errorCount`); a few within the window make it unhealthy. */
  | {kind: 'count'; reason: string}

/**
 * What the request does next:
 * - `next`: try another instance;
 * - `refresh`: get a new access token and send to the same instance once more;
 * - `stop`: answer the client now (a timeout after sending, which must not be resent; a client that left; an
 *   answer the client gets as it is).
 */
export type Action = 'next' | 'refresh' | 'stop'

export interface Decision {
  action: Action
  effect: Effect
}

export interface DecideOptions {
  /** The adapter can refresh the token and has not yet done so for this request on this instance. */
  refreshLeft: boolean
}

const NOTHING: Effect = {kind: 'none'}

/** The failover rules in one table: what an attempt's outcome means for the request and for its instance. */
export function decide(
  outcome: Outcome,
  policy: Pick<HealthPolicy, 'defaultCooldownMs' | 'maxCooldownMs'>,
  options: DecideOptions,
): Decision {
  switch (outcome.kind) {
    case 'success':
    case 'client_fault':
    case 'cancelled':
      return {action: 'stop', effect: NOTHING}
    case 'rate_limited':
      return {
        action: 'next',
        effect: {
          kind: 'cool',
          ms: outcome.retryAfterMs ?? policy.defaultCooldownMs,
          capped: true,
          reason: outcome.reason ?? 'rate limited',
        },
      }
    case 'quota':
      return {
        action: 'next',
        effect: {
          kind: 'cool',
          ms: outcome.retryAfterMs ?? policy.maxCooldownMs,
          capped: outcome.retryAfterMs === null,
          reason: outcome.reason ?? 'quota exhausted',
        },
      }
    case 'auth':
      // A 401 a fresh token may cure is not held against the instance yet.
      if (options.refreshLeft) return {action: 'refresh', effect: NOTHING}
      return {action: 'next', effect: {kind: 'unhealthy', reason: outcome.reason ?? 'auth'}}
    case 'timeout':
      // Once sent, the upstream may still be generating (and billing) the answer: sending it elsewhere could pay twice.
      return {action: outcome.phase === 'connect' ? 'next' : 'stop', effect: counted(outcome)}
    case 'server':
      return {action: 'next', effect: counted(outcome)}
    case 'network':
      return {action: 'next', effect: counted(outcome)}
  }
}

function counted(outcome: Outcome): Effect {
  return {kind: 'count', reason: ('reason' in outcome ? outcome.reason : undefined) ?? describeOutcome(outcome)}
}
