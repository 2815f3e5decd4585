import type {Readable} from 'node:stream'

/** Largest upstream error body (or other small answer) read into memory; the rest is never read. */
export const DEFAULT_ERROR_BODY_LIMIT = 1024 * 1024

/**
 * At most `limit` bytes of a body; `complete` is false when it was longer, and then the rest is never read and the
 * body is destroyed, which closes its connection instead of draining what may be an endless answer.
 */
async function readBounded(body: Readable, limit: number): Promise<{bytes: Buffer; complete: boolean}> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const bytes = chunk as Buffer
    if (size + bytes.length > limit) {
      chunks.push(bytes.subarray(0, limit - size))
      body.destroy()
      return {bytes: Buffer.concat(chunks, limit), complete: false}
    }
    size += bytes.length
    chunks.push(bytes)
  }
  return {bytes: Buffer.concat(chunks, size), complete: true}
}

/** The body's bytes, or undefined when they pass `limit` (reading stops there and the body is destroyed). */
export async function readLimited(body: Readable, limit: number): Promise<Buffer | undefined> {
  const read = await readBounded(body, limit)
  return read.complete ? read.bytes : undefined
}

/** At most `limit` bytes of a body as text, for error messages and small answers. */
export async function readText(body: Readable, limit: number): Promise<{text: string; complete: boolean}> {
  const read = await readBounded(body, limit)
  return {text: read.bytes.toString('utf8'), complete: read.complete}
}

/** Closes an upstream answer that was not read to its end; one that was keeps its connection for reuse. */
export function discard(body: Readable): void {
  if (!body.readableEnded && !body.destroyed) body.destroy()
}
