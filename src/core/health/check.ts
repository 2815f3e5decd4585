import {CancelledError} from '../errors.js'
import type {PoolStore} from '../pools/store.js'
import {findInstance} from '../pools/lookup.js'
import {entriesById} from '../pools/schema.js'
import type {PoolInstance, ProviderType, RawInstance} from '../pools/types.js'
import type {Adapters} from '../providers/index.js'
import type {Quota} from '../quota/types.js'
import {probeInstance, type ProbeOptions, type ProbeReason, type ProbeResult} from './probe.js'

export interface CheckEntry {
  uuid: string
  type: ProviderType
  name: string | null
  healthy: boolean
  state: 'healthy' | 'unhealthy' | 'cooling' | 'skipped'
  reason: ProbeReason | null
  status: number | null
  latencyMs: number | null
  model: string | null
  error: string | null
  /** What the vendor reported of the quota during the check; null when it reported nothing or could not be asked. */
  quota: Quota | null
}

export interface CheckOptions extends ProbeOptions {
  refs?: string[]
  type?: ProviderType
  concurrency: number
  /** Cooldown recorded for a rate limit that named no end. */
  defaultCooldownMs?: number
  onStart?: (instance: PoolInstance) => void
  onResult?: (entry: CheckEntry, instance: PoolInstance) => void
  /** Cancels the check: no further probes start, running ones are given up, finished ones are still recorded. */
  signal?: AbortSignal
}

const CANCELLED = 'check cancelled'

/** Which instances a check covers: the named ones, else those of the type, else all, in file order. */
export function selectForCheck(
  instances: PoolInstance[],
  refs: string[] | undefined,
  type: ProviderType | undefined,
): PoolInstance[] {
  const pool = type ? instances.filter((i) => i.type === type) : instances
  if (!refs || refs.length === 0) return pool
  const chosen = new Map(refs.map((ref) => findInstance(pool, ref)).map((i) => [i.id, i]))
  return [...chosen.values()]
}

function entryOf(instance: PoolInstance, probe: ProbeResult | null, skipReason?: string): CheckEntry {
  return {
    uuid: instance.uuid,
    type: instance.type,
    name: instance.name,
    healthy: probe?.healthy ?? false,
    state: probe?.state ?? 'skipped',
    reason: probe?.reason ?? null,
    status: probe?.status ?? null,
    latencyMs: probe?.latencyMs ?? null,
    model: probe?.model ?? null,
    error: probe?.error ?? skipReason ?? null,
    quota: probe?.quota ?? null,
  }
}

/**
 * Probes the selected enabled instances, at most `concurrency` at a time, then records every result in the pool
 * file in one locked write. Disabled instances are reported as skipped and never contacted.
 */
export async function runChecks(store: PoolStore, adapters: Adapters, options: CheckOptions): Promise<CheckEntry[]> {
  const now = options.now ?? Date.now
  const {instances} = await store.read()
  const targets = selectForCheck(instances, options.refs, options.type)
  const entries: CheckEntry[] = new Array(targets.length)
  const probes = new Map<string, ProbeResult>()
  let next = 0
  const worker = async () => {
    while (next < targets.length && !options.signal?.aborted) {
      const index = next++
      const instance = targets[index]!
      const adapter = adapters[instance.type]
      if (instance.isDisabled || !adapter) {
        entries[index] = entryOf(
          instance,
          null,
          instance.isDisabled ? 'disabled' : `no probe for ${instance.type} in this version`,
        )
      } else {
        options.onStart?.(instance)
        const probe = await probeInstance(adapter, instance, options).catch((error: unknown) => {
          if (error instanceof CancelledError) return null
          throw error
        })
        if (probe) probes.set(instance.id, probe)
        entries[index] = probe ? entryOf(instance, probe) : entryOf(instance, null, CANCELLED)
      }
      options.onResult?.(entries[index]!, instance)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(options.concurrency, targets.length))}, worker))
  // A cancelled check still records what it learnt; the instances it did not reach are reported as skipped.
  for (let i = 0; i < targets.length; i++) entries[i] ??= entryOf(targets[i]!, null, CANCELLED)
  if (probes.size > 0)
    await store.update((doc) => recordProbes(doc, probes, now(), options.defaultCooldownMs ?? 30_000))
  return entries
}

export function applyProbe(raw: RawInstance, probe: ProbeResult, now: number, defaultCooldownMs: number): void {
  const time = new Date(now).toISOString()
  raw.lastHealthCheckTime = time
  // An unread quota leaves the last reading in place: its checkedAt tells how old it is.
  if (probe.quota) raw.quota = probe.quota
  if (probe.healthy) {
    raw.isHealthy = true
    raw.errorCount = 0
    if ('lastErrorReason' in raw) raw.lastErrorReason = null
    if ('cooldownUntil' in raw) raw.cooldownUntil = null
    return
  }
  raw.lastErrorReason = probe.reason
  raw.lastErrorTime = time
  if (probe.state === 'cooling') {
    // A rate limit says nothing about the key being bad: the instance rests instead of being marked unhealthy. A
    // spent quota rests it until the reset its vendor named.
    raw.cooldownUntil = new Date(now + (probe.retryAfterMs ?? defaultCooldownMs)).toISOString()
    return
  }
  raw.isHealthy = false
  raw.errorCount = (typeof raw.errorCount === 'number' ? raw.errorCount : 0) + 1
}

function recordProbes(
  doc: Record<string, unknown>,
  probes: Map<string, ProbeResult>,
  now: number,
  defaultCooldownMs: number,
): boolean {
  const entries = entriesById(doc)
  for (const [id, probe] of probes) {
    const raw = entries.get(id)
    if (raw) applyProbe(raw, probe, now, defaultCooldownMs)
  }
  return true
}
