/** How long a session stays bound without use, and how many bindings are kept at most. */
export interface AffinityLimits {
  ttlMs: number
  maxEntries: number
}

export const DEFAULT_AFFINITY: AffinityLimits = {ttlMs: 60 * 60_000, maxEntries: 10_000}

interface Binding {
  instance: string
  expires: number
}

/**
 * Which instance served each session last: a bounded map, least recently used first, whose entries expire `ttlMs`
 * after their last use. The key names the type and model as well as the session, so one conversation may be bound
 * to an instance per type and model.
 */
export class SessionAffinity {
  // A Map iterates in insertion order; every use re-inserts, so the first entry is the least recently used.
  private readonly bindings = new Map<string, Binding>()

  constructor(
    readonly limits: AffinityLimits = DEFAULT_AFFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The instance the session is bound to, refreshing the binding; undefined when unbound or expired. */
  get(key: string): string | undefined {
    const binding = this.bindings.get(key)
    if (!binding) return undefined
    this.bindings.delete(key)
    const now = this.now()
    if (binding.expires <= now) return undefined
    this.bindings.set(key, {instance: binding.instance, expires: now + this.limits.ttlMs})
    return binding.instance
  }

  /** Binds the session to the instance that served it; the oldest binding goes when the map is full. */
  bind(key: string, instance: string): void {
    this.bindings.delete(key)
    this.bindings.set(key, {instance, expires: this.now() + this.limits.ttlMs})
    while (this.bindings.size > this.limits.maxEntries) {
      this.bindings.delete(this.bindings.keys().next().value!)
    }
  }

  /** An instance that can no longer serve (unhealthy, disabled, removed) loses every session bound to it. */
  forgetInstance(instance: string): void {
    for (const [key, binding] of this.bindings) if (binding.instance === instance) this.bindings.delete(key)
  }

  /** Sessions bound to each instance, unexpired. */
  counts(): Map<string, number> {
    const now = this.now()
    const counts = new Map<string, number>()
    for (const {instance, expires} of this.bindings.values()) {
      if (expires > now) counts.set(instance, (counts.get(instance) ?? 0) + 1)
    }
    return counts
  }
}
