import {Counter, Gauge, Histogram, Registry} from 'prom-client'
import {instanceLabel, type LiveInstance, type PoolState} from '../pools/pool-state.js'
import type {InstanceStateName} from '../pools/live-instance.js'
import type {PoolInstance} from '../pools/types.js'
import type {Adapters} from '../providers/index.js'
import type {RequestRecord} from '../proxy/types.js'
import {TOKEN_KINDS} from '../usage/tokens.js'
import {labelsOf, RequestTally, STATUS_CLASSES, type InstanceLabels} from './tally.js'

const INSTANCE = ['type', 'instance', 'uuid'] as const
const REQUEST = [...INSTANCE, 'protocol'] as const
const STATES: readonly InstanceStateName[] = ['healthy', 'cooling', 'unhealthy', 'disabled']
/** Seconds: from the proxy's own milliseconds to a long generation. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export interface MetricsSources {
  state: PoolState
  adapters: Adapters
  now: () => number
}

/**
 * The Prometheus metrics of one server, in a registry of its own. Requests are counted from their records (see
 * RequestTally); everything about instances (state, in flight, cooldown, token expiry) is read from the pool when
 * scraped, so serving pays nothing for it.
 */
export class ProxyMetrics {
  private readonly registry = new Registry()
  private readonly tally: RequestTally

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    const duration = new Histogram({
      name: 'aiclient_request_duration_seconds',
      help: 'Time from a request’s arrival to the end of its answer.',
      labelNames: REQUEST,
      buckets: BUCKETS,
      registers,
    })
    const firstToken = new Histogram({
      name: 'aiclient_time_to_first_token_seconds',
      help: 'Time from a request’s arrival to the first byte of its answer sent to the client.',
      labelNames: REQUEST,
      buckets: BUCKETS,
      registers,
    })
    const tally = (this.tally = new RequestTally((labels) => {
      const durations = duration.labels(labels)
      const firstTokens = firstToken.labels(labels)
      return {duration: (s) => durations.observe(s), firstToken: (s) => firstTokens.observe(s)}
    }))
    new Counter({
      name: 'aiclient_requests_total',
      help: 'Requests answered, by the type and instance that served them, the client’s protocol and status class.',
      labelNames: [...REQUEST, 'status_class'],
      registers,
      collect() {
        this.reset()
        for (const {labels, byClass} of tally.requests.values())
          for (const status_class of STATUS_CLASSES)
            if (byClass[status_class] > 0) this.inc({...labels, status_class}, byClass[status_class])
      },
    })
    new Counter({
      name: 'aiclient_tokens_total',
      help: 'Tokens of served answers by kind; source is "upstream" when the upstream reported them, "estimate" when counted here.',
      labelNames: [...INSTANCE, 'model', 'kind', 'source'],
      registers,
      collect() {
        this.reset()
        for (const {labels, counts} of tally.tokens.values())
          TOKEN_KINDS.forEach((kind, i) => this.inc({...labels, kind}, counts[i]!))
      },
    })
    new Counter({
      name: 'aiclient_failovers_total',
      help: 'Times a request moved on to another instance, by the provider type the client asked for.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset()
        for (const [type, count] of tally.failovers) this.inc({type}, count)
      },
    })
    new Counter({
      name: 'aiclient_fallbacks_total',
      help: 'Requests served by a fallback provider type instead of the one asked for.',
      labelNames: ['from', 'to'],
      registers,
      collect() {
        this.reset()
        for (const [key, count] of tally.fallbacks) {
          const [from, to] = key.split('\0') as [string, string]
          this.inc({from, to}, count)
        }
      },
    })
    const {state, adapters, now} = sources
    /** A gauge filled at scrape time with one value per instance, or none where `value` gives undefined. */
    const perInstance = (name: string, help: string, value: (live: LiveInstance, at: number) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: INSTANCE,
        registers,
        collect() {
          this.reset()
          const at = now()
          for (const live of state.list()) {
            const v = value(live, at)
            if (v !== undefined) this.set(labelsOfLive(live), v)
          }
        },
      })
    new Gauge({
      name: 'aiclient_instance_state',
      help: 'The instance’s state: 1 for the one it is in, 0 for the others.',
      labelNames: [...INSTANCE, 'state'],
      registers,
      collect() {
        this.reset()
        const at = now()
        for (const live of state.list()) {
          const current = state.stateOf(live, at)
          const labels = labelsOfLive(live)
          for (const name of STATES) this.set({...labels, state: name}, name === current ? 1 : 0)
        }
      },
    })
    perInstance('aiclient_instance_in_flight', 'Requests the instance is serving now.', (live) => live.inFlight)
    perInstance(
      'aiclient_instance_cooldown_remaining_seconds',
      'Seconds until the instance’s rate-limit or quota cooldown ends; 0 when it is not cooling.',
      (live, at) => Math.max(0, live.cooldownUntil - at) / 1000,
    )
    perInstance(
      'aiclient_oauth_token_expiry_timestamp_seconds',
      'When the OAuth instance’s access token expires (Unix time), once serve has read its credential file.',
      (live) => {
        const expiresAt = adapters[live.config.type]?.tokenStatus?.(live.config)?.expiresAt
        return expiresAt ? expiresAt.getTime() / 1000 : undefined
      },
    )
  }

  readonly record = (record: RequestRecord): void => this.tally.record(record)

  /** What the status API shows of the counts: requests by status class, tokens by instance. */
  totals() {
    return {requests: this.tally.requestTotals(), tokens: this.tally.tokensByInstance()}
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The text format, as scraped. */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }
}

/** By the file's entry, which a sync replaces when it changes: each scrape need not scrub every name again. */
const liveLabels = new WeakMap<PoolInstance, InstanceLabels>()

function labelsOfLive(live: LiveInstance): InstanceLabels {
  let labels = liveLabels.get(live.config)
  if (!labels) liveLabels.set(live.config, (labels = labelsOf(live.config.type, instanceLabel(live), live.config.uuid)))
  return labels
}
