import type {ResponseMemory, StoredResponse} from './memory.js'

/** Responses a WebSocket connection keeps for itself: enough for a session's chain of follow-ups. */
export const CONNECTION_MEMORY_LIMIT = 64

/**
 * One WebSocket connection's responses, layered over the server's memory. Codex sends every turn with
 * `store: false` and names the previous one by `previous_response_id`, so the connection keeps each of its
 * responses (the most recent `limit`) whether stored or not; lookups fall back to the server's memory, so a
 * connection can continue a response made over HTTP.
 */
export class ConnectionMemory {
  private readonly own = new Map<string, StoredResponse>()

  constructor(
    private readonly server: ResponseMemory,
    private readonly limit = CONNECTION_MEMORY_LIMIT,
  ) {}

  get(id: string): StoredResponse | undefined {
    return this.own.get(id) ?? this.server.get(id)
  }

  /** The memory one request writes to: always the connection's own, the server's too when the client stores. */
  forRequest(store: boolean): ResponseMemory {
    return {
      get: (id) => this.get(id),
      put: (stored) => {
        this.keep(stored)
        if (store) this.server.put(stored)
      },
    }
  }

  private keep(stored: StoredResponse): void {
    this.own.delete(stored.id)
    this.own.set(stored.id, stored)
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.own.size > this.limit) this.own.delete(this.own.keys().next().value!)
  }
}
