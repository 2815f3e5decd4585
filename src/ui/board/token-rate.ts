/**
 * Tokens per second over a short moving window, overall and per instance, from the answers as they end. Times come
 * from the caller (the answers' end, the board's clock), so the window moves with whatever clock is injected.
 */
export class TokenRate {
  private readonly events: Array<{at: number; instanceId: string; tokens: number}> = []

  constructor(readonly windowMs = 5_000) {}

  add(instanceId: string, tokens: number, at: number): void {
    if (tokens > 0) this.events.push({at, instanceId, tokens})
  }

  /** The rates at `now`; answers older than the window are forgotten. */
  at(now: number): {total: number; byInstance: Map<string, number>} {
    const cutoff = now - this.windowMs
    let stale = 0
    while (stale < this.events.length && this.events[stale]!.at <= cutoff) stale++
    if (stale > 0) this.events.splice(0, stale)
    const byInstance = new Map<string, number>()
    let total = 0
    for (const {instanceId, tokens, at} of this.events) {
      if (at > now) continue
      byInstance.set(instanceId, (byInstance.get(instanceId) ?? 0) + tokens)
      total += tokens
    }
    const seconds = this.windowMs / 1000
    for (const [id, tokens] of byInstance) byInstance.set(id, tokens / seconds)
    return {total: total / seconds, byInstance}
  }
}
