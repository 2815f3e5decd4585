import type {Readable} from 'node:stream'

/** Closes an upstream answer that was not read to its end; one that was keeps its connection for reuse. */
export function discard(body: Readable): void {
  if (!body.readableEnded && !body.destroyed) body.destroy()
}
