import {stateOf, trialRunning, type InstanceStateName, type LiveInstance} from './live-instance.js'
import type {ProviderType} from './types.js'

/** A snapshot of one type's instances and where the last pick left off: all a strategy may look at. */
export interface SelectionInput {
  readonly candidates: readonly LiveInstance[]
  /** Instances this request has already tried. */
  readonly exclude: ReadonlySet<string>
  readonly now: number
  /** Where the search starts: the slot after the type's last pick. */
  readonly cursor: number
  /** An instance that should serve the request if it is usable (it holds the conversation the request continues). */
  readonly prefer?: string
}

export interface Selection {
  readonly index: number
  readonly live: LiveInstance
  /** The instance's cooldown has ended and this request is its one half-open trial. */
  readonly halfOpen: boolean
}

/** A routing strategy: a pure choice over a snapshot; the caller takes the lease and moves the cursor. */
export type Strategy = (input: SelectionInput) => Selection | undefined

/**
 * The next usable instance after the cursor, skipping those already tried. An instance whose cooldown has ended is
 * taken as a half-open trial, and passed by while another request's trial of it runs.
 */
export const roundRobin: Strategy = ({candidates, exclude, now, cursor, prefer}) => {
  if (prefer !== undefined) {
    const index = candidates.findIndex((live) => live.id === prefer)
    const chosen = index < 0 ? undefined : usable(candidates[index]!, index, exclude, now)
    if (chosen) return chosen
  }
  for (const index of ring(candidates.length, cursor)) {
    const chosen = usable(candidates[index]!, index, exclude, now)
    if (chosen) return chosen
  }
  return undefined
}

function usable(live: LiveInstance, index: number, exclude: ReadonlySet<string>, now: number): Selection | undefined {
  if (exclude.has(live.id) || stateOf(live, now) !== 'healthy') return undefined
  const halfOpen = live.cooldownUntil !== 0
  if (halfOpen && trialRunning(live, now)) return undefined
  return {index, live, halfOpen}
}

/**
 * An instance for a side request (a model list, a token count) that records no outcome: usable and not being tried
 * out. It takes no trial and leaves the cursor alone.
 */
export function sidePick({candidates, now, cursor}: Omit<SelectionInput, 'exclude'>): LiveInstance | undefined {
  for (const index of ring(candidates.length, cursor)) {
    const live = candidates[index]!
    if (stateOf(live, now) === 'healthy' && !trialRunning(live, now)) return live
  }
  return undefined
}

export interface Unavailability {
  /** The earliest cooldown end among the candidates that are only cooling, or null when none is. */
  coolingUntil: number | null
  counts: Record<InstanceStateName, number>
}

/** Why nothing could be selected, for the answer to the client. */
export function unavailability(
  candidates: readonly LiveInstance[],
  exclude: ReadonlySet<string>,
  now: number,
): Unavailability {
  const counts: Record<InstanceStateName, number> = {healthy: 0, cooling: 0, unhealthy: 0, disabled: 0}
  let coolingUntil: number | null = null
  for (const live of candidates) {
    if (exclude.has(live.id)) continue
    const state = stateOf(live, now)
    counts[state]++
    if (state === 'cooling') coolingUntil = Math.min(coolingUntil ?? Infinity, live.cooldownUntil)
  }
  return {coolingUntil, counts}
}

/** The round-robin position of each type: the only state selection keeps between requests. */
export class Cursors {
  private readonly next = new Map<ProviderType, number>()

  at(type: ProviderType): number {
    return this.next.get(type) ?? 0
  }

  /** The pick was at `index`; the next search starts after it. */
  picked(type: ProviderType, index: number): void {
    this.next.set(type, index + 1)
  }
}

/** Every index of a list of `length` once, starting at `start` and wrapping around. */
function* ring(length: number, start: number): Generator<number> {
  for (let step = 0; step < length; step++) yield (start + step) % length
}
