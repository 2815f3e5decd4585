import type {Readable} from 'node:stream'

/** Largest upstream error body (or other small answer) read into memory; the rest is never read. */
export const DEFAULT_ERROR_BODY_LIMIT = 1024 * 1024

/**
 * The body's bytes, or undefined once they pass `limit`: reading stops there and the body is destroyed, which
 * closes its connection instead of draining what may be an endless answer.
 */
export async function readLimited(body: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > limit) {
      body.destroy()
      return undefined
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

/**
 * At most `limit` bytes of a body as text, for error messages and small answers: `complete` is false when the
 * body was longer, and then the rest is never read and the body destroyed.
 */
export async function readText(body: Readable, limit: number): Promise<{text: string; complete: boolean}> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const bytes = chunk as Buffer
    if (size + bytes.length > limit) {
      chunks.push(bytes.subarray(0, limit - size))
      body.destroy()
      return {text: Buffer.concat(chunks).toString('utf8'), complete: false}
    }
    size += bytes.length
    chunks.push(bytes)
  }
  return {text: Buffer.concat(chunks, size).toString('utf8'), complete: true}
}

/** Closes an upstream answer that was not read to its end; one that was keeps its connection for reuse. */
export function discard(body: Readable): void {
  if (!body.readableEnded && !body.destroyed) body.destroy()
}
