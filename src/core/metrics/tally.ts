import type {Protocol} from '../codecs/types.js'
import type {RequestRecord} from '../proxy/types.js'
import {redact} from '../secrets.js'
import {TOKEN_KINDS, type TokenKind} from '../usage/tokens.js'

/** The labels of one instance as every per-instance metric carries them; secrets never reach a label. */
export interface InstanceLabels {
  type: string
  instance: string
  uuid: string
}

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const
export type StatusClass = (typeof STATUS_CLASSES)[number]

export type RequestLabels = InstanceLabels & {protocol: Protocol}

/** Where a series' durations go, in seconds: prom-client histogram children, made once per series. */
export interface Timings {
  duration(seconds: number): void
  firstToken(seconds: number): void
}

export interface RequestSeries {
  labels: RequestLabels
  byClass: Record<StatusClass, number>
  timings: Timings
}

export interface TokenSeries {
  /** The pool's id of the instance (`type/uuid`), for the status API's per-instance sums. */
  instanceId: string
  labels: InstanceLabels & {model: string; source: 'upstream' | 'estimate'}
  /** In TOKEN_KINDS order. */
  counts: number[]
}

/** Distinct (instance, model) token series kept; past it, further models are counted under MODEL_OVERFLOW. */
export const MAX_TOKEN_SERIES = 5_000
export const MODEL_OVERFLOW = '(other)'

/**
 * What /metrics counts, tallied from each request's record. This is the only part that runs per request, so it is
 * a map lookup, a few additions and the histograms' observations: label values are built (and scrubbed of secrets)
 * and histogram children made once per new series, and the counters' label hashing in prom-client is left to scrape
 * time.
 */
export class RequestTally {
  readonly requests = new Map<string, RequestSeries>()
  readonly tokens = new Map<string, TokenSeries>()
  /** Instances tried after the first, by the type the client asked for. */
  readonly failovers = new Map<string, number>()
  /** Requests another type served, by `from\0to`. */
  readonly fallbacks = new Map<string, number>()

  constructor(private readonly timings: (labels: RequestLabels) => Timings) {}

  record(record: RequestRecord): void {
    const type = record.type ?? ''
    const uuid = uuidOf(record.instanceId)
    const key = `${type}\0${uuid}\0${record.instance ?? ''}\0${record.protocol}`
    let series = this.requests.get(key)
    if (!series) {
      const labels = {...labelsOf(type, record.instance, uuid), protocol: record.protocol}
      series = {labels, byClass: zeroClasses(), timings: this.timings(labels)}
      this.requests.set(key, series)
    }
    series.byClass[statusClass(record.status)]++
    // prom-client throws on a value that is not a finite number; a record must never fail its request.
    if (Number.isFinite(record.ms)) series.timings.duration(record.ms / 1000)
    if (Number.isFinite(record.ttftMs)) series.timings.firstToken(record.ttftMs! / 1000)
    if (record.attempts > 1) add(this.failovers, record.fallbackFrom ?? type, record.attempts - 1)
    if (record.fallbackFrom !== undefined) add(this.fallbacks, `${record.fallbackFrom}\0${type}`, 1)
    if (record.usage) this.countTokens(record, type, uuid)
  }

  private countTokens(record: RequestRecord, type: string, uuid: string): void {
    const usage = record.usage!
    const source = usage.estimated ? 'estimate' : 'upstream'
    const instanceKey = `${type}\0${uuid}\0${record.instance ?? ''}\0${source}`
    let model = record.upstreamModel ?? record.model
    let key = `${instanceKey}\0${model}`
    let series = this.tokens.get(key)
    if (!series && this.tokens.size >= MAX_TOKEN_SERIES) {
      // Model names come from clients: a flood of made-up ones must not grow the scrape without bound.
      model = MODEL_OVERFLOW
      key = `${instanceKey}\0${model}`
      series = this.tokens.get(key)
    }
    if (!series) {
      series = {
        instanceId: record.instanceId ?? '',
        labels: {...labelsOf(type, record.instance, uuid), model: redact(model), source},
        counts: TOKEN_KINDS.map(() => 0),
      }
      this.tokens.set(key, series)
    }
    // A count that is not a number would make every later scrape fail.
    for (let i = 0; i < TOKEN_KINDS.length; i++) series.counts[i]! += usage[TOKEN_KINDS[i]!] || 0
  }

  /** Requests so far by status class, over every series. */
  requestTotals(): Record<StatusClass, number> {
    const totals = zeroClasses()
    for (const {byClass} of this.requests.values()) for (const c of STATUS_CLASSES) totals[c] += byClass[c]
    return totals
  }

  /** Tokens so far by instance id and kind, estimates included. */
  tokensByInstance(): Map<string, Record<TokenKind, number>> {
    const sums = new Map<string, Record<TokenKind, number>>()
    for (const {instanceId, counts} of this.tokens.values()) {
      let sum = sums.get(instanceId)
      if (!sum) sums.set(instanceId, (sum = zeroTokens()))
      TOKEN_KINDS.forEach((kind, i) => (sum[kind] += counts[i]!))
    }
    return sums
  }
}

/** `type/uuid` (or `type/uuid#2` for a repeated uuid) → the uuid as the pool file has it. */
function uuidOf(instanceId: string | undefined): string {
  if (instanceId === undefined) return ''
  const start = instanceId.indexOf('/') + 1
  const end = instanceId.indexOf('#', start)
  return end === -1 ? instanceId.slice(start) : instanceId.slice(start, end)
}

export function labelsOf(type: string, instance: string | null, uuid: string): InstanceLabels {
  // Names and uuids come from a file anyone may have edited; a key pasted into one must not be published.
  return {type, instance: redact(instance ?? ''), uuid: redact(uuid)}
}

export function statusClass(status: number): StatusClass {
  return status >= 100 && status < 600 ? STATUS_CLASSES[Math.floor(status / 100) - 1]! : 'other'
}

export function zeroTokens(): Record<TokenKind, number> {
  return {input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0}
}

function zeroClasses(): Record<StatusClass, number> {
  return {'1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0}
}

function add(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by)
}
