import type {ProviderType} from './types.js'

export const DEFAULT_QUEUE_TIMEOUT_MS = 30_000

/** How a wait for a slot ended: woken to try again, or not let in, or out of time, or the client left. */
export type WaitResult = 'slot' | 'full' | 'timeout' | 'gone'

/** Something that says when the waiting client has gone away. */
export interface Departure {
  readonly aborted: boolean
  once(event: 'abort', listener: () => void): unknown
  off(event: 'abort', listener: () => void): unknown
}

/**
 * One request's place in its type's line, from joining until it leaves. It keeps that place between tries: a request
 * woken for a slot that someone else took first waits again where it stood, not at the back.
 */
export interface Ticket {
  /**
   * Resolves when the request should try for a slot again: a slot freed up ('slot'), or `retryInMs` passed (an
   * instance's cooldown ends then), or the wait is over ('timeout', 'gone'). Once over, every call says so.
   */
  next(retryInMs?: number): Promise<Exclude<WaitResult, 'full'>>
  /** Out of the line, whether served or not. */
  leave(): void
}

class WaitingTicket implements Ticket {
  private ended: 'timeout' | 'gone' | undefined
  /** Woken while trying for a slot: the next `next` returns at once, so no freed slot goes unnoticed. */
  private woken = false
  private resolve: ((result: Exclude<WaitResult, 'full'>) => void) | undefined
  private retry: NodeJS.Timeout | undefined
  private readonly deadline: NodeJS.Timeout
  private readonly gone = () => this.end('gone')

  constructor(
    private readonly line: WaitingTicket[],
    timeoutMs: number,
    private readonly departure: Departure,
  ) {
    this.deadline = setTimeout(() => this.end('timeout'), timeoutMs)
    departure.once('abort', this.gone)
    line.push(this)
  }

  next(retryInMs?: number): Promise<Exclude<WaitResult, 'full'>> {
    if (this.ended) return Promise.resolve(this.ended)
    if (this.woken) {
      this.woken = false
      return Promise.resolve('slot')
    }
    return new Promise((resolve) => {
      this.resolve = resolve
      if (retryInMs !== undefined) this.retry = setTimeout(() => this.settle('slot'), retryInMs)
    })
  }

  wake(): void {
    if (this.resolve) this.settle('slot')
    else this.woken = true
  }

  leave(): void {
    clearTimeout(this.deadline)
    clearTimeout(this.retry)
    this.departure.off('abort', this.gone)
    const at = this.line.indexOf(this)
    if (at >= 0) this.line.splice(at, 1)
  }

  private end(why: 'timeout' | 'gone'): void {
    this.ended = why
    this.leave()
    this.settle(why)
  }

  private settle(result: Exclude<WaitResult, 'full'>): void {
    clearTimeout(this.retry)
    const resolve = this.resolve
    this.resolve = undefined
    resolve?.(result)
  }
}

/**
 * Requests waiting, per provider type, for one of the type's full instances to free a slot. A freed slot wakes the
 * whole line in order, so the oldest waiter tries first and those behind it try next if more than one slot freed;
 * a waiter that times out or whose client leaves drops out of line.
 */
export class SlotQueue {
  private readonly lines = new Map<ProviderType, WaitingTicket[]>()

  waiting(type: ProviderType): number {
    return this.lines.get(type)?.length ?? 0
  }

  /** Joins the type's line, unless `bound` requests already wait in it or the client has left. */
  join(type: ProviderType, bound: number, timeoutMs: number, departure: Departure): Ticket | 'full' | 'gone' {
    if (departure.aborted) return 'gone'
    let line = this.lines.get(type)
    if (!line) this.lines.set(type, (line = []))
    if (line.length >= bound) return 'full'
    return new WaitingTicket(line, timeoutMs, departure)
  }

  /** A slot of the type freed up: everyone in line gets to try for it, oldest first. */
  freed(type: ProviderType): void {
    const line = this.lines.get(type)
    if (line) for (const ticket of [...line]) ticket.wake()
  }
}
