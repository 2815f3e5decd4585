import type {ProviderType} from './types.js'

export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000

/** How a wait for a slot ended: woken by a freed slot, or not let in, or out of time, or the client left. */
export type WaitResult = 'slot' | 'full' | 'timeout' | 'gone'

/** Something that says when the waiting client has gone away. */
export interface Departure {
  readonly aborted: boolean
  once(event: 'abort', listener: () => void): unknown
  off(event: 'abort', listener: () => void): unknown
}

interface Waiter {
  wake(): void
}

/**
 * Requests waiting, per provider type, for one of the type's full instances to free a slot. The oldest waiter is
 * woken first; a waiter that times out or whose client leaves drops out of line.
 */
export class SlotQueue {
  private readonly lines = new Map<ProviderType, Waiter[]>()

  waiting(type: ProviderType): number {
    return this.lines.get(type)?.length ?? 0
  }

  /** Joins the type's line unless `bound` requests already wait in it. */
  wait(type: ProviderType, bound: number, timeoutMs: number, departure: Departure): Promise<WaitResult> {
    if (departure.aborted) return Promise.resolve('gone')
    const line = this.lines.get(type) ?? []
    if (line.length >= bound) return Promise.resolve('full')
    this.lines.set(type, line)
    return new Promise((resolve) => {
      const finish = (result: WaitResult) => {
        clearTimeout(timer)
        departure.off('abort', gone)
        const at = line.indexOf(waiter)
        if (at >= 0) line.splice(at, 1)
        resolve(result)
      }
      const gone = () => finish('gone')
      const waiter: Waiter = {wake: () => finish('slot')}
      const timer = setTimeout(() => finish('timeout'), timeoutMs)
      departure.once('abort', gone)
      line.push(waiter)
    })
  }

  /** A slot of the type freed up: the oldest waiter gets to try for it. */
  freed(type: ProviderType): void {
    this.lines.get(type)?.[0]?.wake()
  }
}
