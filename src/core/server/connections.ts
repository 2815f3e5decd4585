import type {Socket} from 'node:net'

/**
 * Counts open client connections. Those past the cap are still read, so that they can be told why (a 503 in the
 * client's protocol, then closed), but are closed at once if they send nothing.
 */
export class ConnectionCap {
  private open = 0
  private readonly over = new WeakSet<Socket>()

  constructor(
    private readonly max: number,
    private readonly overCapIdleMs = 2000,
  ) {}

  admit(socket: Socket): void {
    this.open++
    socket.once('close', () => this.open--)
    if (this.open > this.max) {
      this.over.add(socket)
      socket.setTimeout(this.overCapIdleMs, () => socket.destroy())
    }
  }

  refuses(socket: Socket): boolean {
    return this.over.has(socket)
  }

  get limit(): number {
    return this.max
  }

  get refusalMessage(): string {
    return `The server has too many open connections (limit ${this.max}). Try again in a moment.`
  }
}
