import {atLimit, servesModel} from './limits.js'
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
  /**
   * The instance the request's session is bound to: taken when it is usable and in the tier the strategy would
   * choose from. Unlike `prefer`, it does not reach below that tier, since a session only saves a cache there.
   */
  readonly sticky?: string
  /** The weighted strategy's running credit of each instance, as its last pick of the type left them. */
  readonly credits?: ReadonlyMap<string, number>
  /** The model asked for: instances whose model lists leave it out are passed by. */
  readonly model?: string
}

export interface Selection {
  readonly index: number
  readonly live: LiveInstance
  /** The instance's cooldown has ended and this request is its one half-open trial. */
  readonly halfOpen: boolean
  /** The weighted strategy's credits after this pick, for the next one. */
  readonly credits?: ReadonlyMap<string, number>
}

/** A routing strategy: a pure choice over a snapshot; the caller takes the lease and keeps the returned position. */
export type Strategy = (input: SelectionInput) => Selection | undefined

export const STRATEGY_NAMES = ['round-robin', 'fill-first', 'weighted', 'least-busy'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

export function isStrategyName(value: unknown): value is StrategyName {
  return (STRATEGY_NAMES as readonly unknown[]).includes(value)
}

/**
 * Every strategy starts the same way: the instance holding the request's conversation when it is usable, else the
 * usable instances of the highest priority that has any (see `tier`), among which the session's bound instance
 * goes first and the strategy chooses otherwise.
 */
function strategy(choose: (options: Selection[], input: SelectionInput) => Selection, accept?: Accept): Strategy {
  return (input) => {
    const preferred = preferredOf(input)
    if (preferred) return preferred
    const options = tier(input, accept)
    if (options.length === 0) return undefined
    const bound = input.sticky === undefined ? undefined : options.find((option) => option.live.id === input.sticky)
    return bound ?? choose(options, input)
  }
}

/** The next usable instance at or after the cursor, wrapping around. */
export const roundRobin: Strategy = strategy(nextFrom)

/** Always the first usable instance in file order: one account is used up before the next is touched. */
export const fillFirst: Strategy = strategy((options) => options[0]!)

/** The usable instance with the fewest requests in flight (its open leases); ties go round-robin. */
export const leastBusy: Strategy = strategy((options, input) => {
  const fewest = Math.min(...options.map((option) => option.live.inFlight))
  return nextFrom(
    options.filter((option) => option.live.inFlight === fewest),
    input,
  )
})

/**
 * Smooth weighted round-robin (nginx's): every usable instance earns its weight in credit, the richest is picked
 * and pays the round's total. Weights 3:1 give a a b a, a a b a… rather than bursts. Weight 0 is out of rotation.
 */
export const weighted: Strategy = strategy(
  (options, {candidates, credits}) => {
    let total = 0
    let best: {option: Selection; credit: number} | undefined
    const next = new Map<string, number>()
    for (const live of candidates) {
      const credit = credits?.get(live.id)
      if (credit !== undefined) next.set(live.id, credit)
    }
    for (const option of options) {
      const weight = option.live.config.weight
      const credit = (next.get(option.live.id) ?? 0) + weight
      next.set(option.live.id, credit)
      total += weight
      if (!best || credit > best.credit) best = {option, credit}
    }
    next.set(best!.option.live.id, best!.credit - total)
    return {...best!.option, credits: next}
  },
  (live) => live.config.weight > 0,
)

export const STRATEGIES: Record<StrategyName, Strategy> = {
  'round-robin': roundRobin,
  'fill-first': fillFirst,
  weighted,
  'least-busy': leastBusy,
}

/** Whether a strategy counts an instance at all, beyond its state (weighted leaves out weight 0). */
type Accept = (live: LiveInstance) => boolean

function preferredOf(input: SelectionInput): Selection | undefined {
  if (input.prefer === undefined) return undefined
  const index = input.candidates.findIndex((live) => live.id === input.prefer)
  return index < 0 ? undefined : usable(input.candidates[index]!, index, input)
}

/**
 * The usable instances of the highest priority among the usable ones, in file order: a lower tier is reached only
 * while every instance above it is cooling, unhealthy, disabled, being tried out, full, or already tried by this
 * request, or does not serve the model.
 */
function tier(input: Pick<SelectionInput, 'candidates' | 'exclude' | 'now' | 'model'>, accept?: Accept) {
  let top = -Infinity
  let options: Selection[] = []
  input.candidates.forEach((live, index) => {
    const option = accept && !accept(live) ? undefined : usable(live, index, input)
    if (!option) return
    const priority = live.config.priority
    if (priority > top) {
      top = priority
      options = []
    }
    if (priority === top) options.push(option)
  })
  return options
}

/** The first option at or after the cursor's slot, else the first: round-robin over a subset in file order. */
function nextFrom(options: Selection[], {candidates, cursor}: Pick<SelectionInput, 'candidates' | 'cursor'>) {
  const start = cursor % candidates.length
  return options.find((option) => option.index >= start) ?? options[0]!
}

function usable(
  live: LiveInstance,
  index: number,
  {exclude, now, model}: Pick<SelectionInput, 'exclude' | 'now' | 'model'>,
): Selection | undefined {
  if (exclude.has(live.id) || stateOf(live, now) !== 'healthy' || atLimit(live)) return undefined
  if (model !== undefined && !servesModel(live.config, model)) return undefined
  const halfOpen = live.cooldownUntil !== 0
  if (halfOpen && trialRunning(live, now)) return undefined
  return {index, live, halfOpen}
}

/**
 * An instance for a side request (a model list, a token count) that records no outcome: usable, not being tried
 * out, and of the top priority tier. It takes no trial and leaves the cursor alone.
 */
export function sidePick({candidates, now, cursor}: Omit<SelectionInput, 'exclude'>): LiveInstance | undefined {
  const options = tier({candidates, exclude: new Set(), now})
  return options.length === 0 ? undefined : nextFrom(options, {candidates, cursor}).live
}

export interface Unavailability {
  /** The earliest cooldown end among the candidates that are only cooling, or null when none is. */
  coolingUntil: number | null
  counts: Record<InstanceStateName, number>
  /** Healthy instances passed by only because they are at their concurrency limit. */
  full: number
}

/** Why nothing could be selected, for the answer to the client; `full` counts only instances serving `model`. */
export function unavailability(
  candidates: readonly LiveInstance[],
  exclude: ReadonlySet<string>,
  now: number,
  model?: string,
): Unavailability {
  const counts: Record<InstanceStateName, number> = {healthy: 0, cooling: 0, unhealthy: 0, disabled: 0}
  let coolingUntil: number | null = null
  let full = 0
  for (const live of candidates) {
    if (exclude.has(live.id)) continue
    const state = stateOf(live, now)
    counts[state]++
    if (state === 'cooling') coolingUntil = Math.min(coolingUntil ?? Infinity, live.cooldownUntil)
    if (state === 'healthy' && atLimit(live) && (model === undefined || servesModel(live.config, model))) full++
  }
  return {coolingUntil, counts, full}
}

/** Where each type's last pick left off: the only state selection keeps between requests. */
export class Cursors {
  private readonly next = new Map<ProviderType, number>()
  private readonly credits = new Map<ProviderType, ReadonlyMap<string, number>>()

  at(type: ProviderType): Pick<SelectionInput, 'cursor' | 'credits'> {
    const credits = this.credits.get(type)
    return {cursor: this.next.get(type) ?? 0, ...(credits && {credits})}
  }

  /** The pick was at `selection.index`; the next search starts after it. */
  picked(type: ProviderType, selection: Pick<Selection, 'index' | 'credits'>): void {
    this.next.set(type, selection.index + 1)
    if (selection.credits) this.credits.set(type, selection.credits)
  }
}
