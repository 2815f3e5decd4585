import type {ProviderType} from '../../pools/types.js'

/** One finished Responses answer, kept so that a follow-up can name it by `previous_response_id`. */
export interface StoredResponse {
  id: string
  /** The whole conversation up to this response, as Responses input items (earlier turns expanded). */
  input: unknown[]
  /** The response's output items. */
  output: unknown[]
  /** The response object as the client received it, for `GET /v1/responses/{id}`. */
  response: Record<string, unknown>
  type: ProviderType
  /** The pool id of the instance that answered (`type/uuid`); a Responses upstream holds the id only there. */
  instanceId?: string
  /** Whether the upstream itself was asked to keep the response (`store` not false on a Responses upstream). */
  upstreamStored: boolean
}

/** Where responses are kept and found again: the server's bounded store, or a WebSocket connection's own. */
export interface ResponseMemory {
  get(id: string): StoredResponse | undefined
  put(stored: StoredResponse): void
}

export interface ResponseStoreLimits {
  maxEntries: number
  /** Approximate bytes of kept conversations (their JSON length), all together. */
  maxBytes: number
  /** How long a response may be continued after it was made. */
  ttlMs: number
}

export const DEFAULT_RESPONSE_STORE: ResponseStoreLimits = {
  maxEntries: 1000,
  maxBytes: 256 * 1024 * 1024,
  ttlMs: 60 * 60 * 1000,
}

interface Entry {
  stored: StoredResponse
  bytes: number
  expires: number
}

/**
 * The server's responses, newest last, within a count, a size and an age; the oldest go first. A Map keeps
 * insertion order, so eviction is from its front and every operation is O(1) apart from the evicted entries.
 */
export class ResponseStore implements ResponseMemory {
  private readonly entries = new Map<string, Entry>()
  private bytes = 0

  constructor(
    private readonly limits: ResponseStoreLimits = DEFAULT_RESPONSE_STORE,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size
  }

  get(id: string): StoredResponse | undefined {
    const entry = this.entries.get(id)
    if (!entry) return undefined
    if (entry.expires <= this.now()) {
      this.remove(id, entry)
      return undefined
    }
    return entry.stored
  }

  put(stored: StoredResponse): void {
    const previous = this.entries.get(stored.id)
    if (previous) this.remove(stored.id, previous)
    const bytes = sizeOf(stored)
    // A conversation larger than the whole store cannot be kept without emptying it for nothing.
    if (bytes > this.limits.maxBytes) return
    this.entries.set(stored.id, {stored, bytes, expires: this.now() + this.limits.ttlMs})
    this.bytes += bytes
    this.evict()
  }

  delete(id: string): boolean {
    const entry = this.entries.get(id)
    if (!entry) return false
    this.remove(id, entry)
    return true
  }

  private evict(): void {
    const now = this.now()
    for (const [id, entry] of this.entries) {
      const over = this.entries.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes
      if (!over && entry.expires > now) break
      this.remove(id, entry)
    }
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id)
    this.bytes -= entry.bytes
  }
}

/** Later turns share their items with earlier ones in memory, so this overstates: the store errs on the safe side. */
function sizeOf(stored: StoredResponse): number {
  return JSON.stringify(stored.input).length + JSON.stringify(stored.output).length
}
