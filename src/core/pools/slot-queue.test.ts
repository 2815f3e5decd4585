import {EventEmitter} from 'node:events'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {SlotQueue, type Ticket} from './slot-queue.js'

class Client extends EventEmitter {
  aborted = false
  leave(): void {
    this.aborted = true
    this.emit('abort')
  }
}

const join = (queue: SlotQueue, bound = 5, timeoutMs = 1000, client = new Client()): Ticket => {
  const ticket = queue.join('openai-custom', bound, timeoutMs, client)
  if (typeof ticket === 'string') throw new Error(`not let in: ${ticket}`)
  return ticket
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('SlotQueue', () => {
  it('a woken waiter that lost the slot waits again at the front, ahead of those behind it', async () => {
    const queue = new SlotQueue()
    const first = join(queue)
    const second = join(queue)
    const order: string[] = []
    const track = (name: string, ticket: Ticket) => ticket.next().then((result) => order.push(`${name} ${result}`))
    const firstTry = track('first', first)
    const secondTry = track('second', second)
    queue.freed('openai-custom')
    await Promise.all([firstTry, secondTry])
    expect(order).toEqual(['first slot', 'second slot'])
    // Neither got the slot (someone not in line did): both wait again, in their old order.
    order.length = 0
    const again = [track('second', second), track('first', first)]
    queue.freed('openai-custom')
    await Promise.all(again)
    expect(order).toEqual(['first slot', 'second slot'])
    expect(queue.waiting('openai-custom')).toBe(2)
    first.leave()
    second.leave()
    expect(queue.waiting('openai-custom')).toBe(0)
  })

  it('a slot freed while the waiter was busy trying is not lost', async () => {
    const queue = new SlotQueue()
    const ticket = join(queue)
    queue.freed('openai-custom')
    await expect(ticket.next()).resolves.toBe('slot')
    // Positive control: without a wake it keeps waiting.
    let settled = false
    void ticket.next().then(() => (settled = true))
    await vi.advanceTimersByTimeAsync(500)
    expect(settled).toBe(false)
    ticket.leave()
  })

  it('wakes a waiter when its retry time comes (a cooldown ends), and times out by the first deadline', async () => {
    const queue = new SlotQueue()
    const ticket = join(queue, 5, 1000)
    const retry = ticket.next(300)
    await vi.advanceTimersByTimeAsync(299)
    let result: string | undefined
    void retry.then((r) => (result = r))
    await vi.advanceTimersByTimeAsync(0)
    expect(result).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(result).toBe('slot')
    // The deadline counts from joining, not from the last wake.
    const last = ticket.next()
    await vi.advanceTimersByTimeAsync(700)
    await expect(last).resolves.toBe('timeout')
    await expect(ticket.next()).resolves.toBe('timeout')
    expect(queue.waiting('openai-custom')).toBe(0)
  })

  it('turns away a request when the line is full, and drops a waiter whose client left', async () => {
    const queue = new SlotQueue()
    const client = new Client()
    const ticket = join(queue, 1, 1000, client)
    expect(queue.join('openai-custom', 1, 1000, new Client())).toBe('full')
    const waiting = ticket.next()
    client.leave()
    await expect(waiting).resolves.toBe('gone')
    expect(queue.waiting('openai-custom')).toBe(0)
    const gone = new Client()
    gone.leave()
    expect(queue.join('openai-custom', 1, 1000, gone)).toBe('gone')
  })
})
