import {randomBytes} from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

// Every request takes an id or two. A call to randomBytes costs a few microseconds, as much as a small part of a
// converted request, so the bytes come from a pool filled 4 KB at a time (as node's randomUUID does).
const POOL_SIZE = 4096
let pool = Buffer.alloc(0)
let used = 0

/** `length` bytes (at most the pool's size) from the CSPRNG, each handed out once. */
export function randomIdBytes(length: number): Buffer {
  if (used + length > pool.length) {
    pool = randomBytes(POOL_SIZE)
    used = 0
  }
  used += length
  return pool.subarray(used - length, used)
}

export function newId(prefix: string, length = 24): string {
  let id = prefix
  for (const byte of randomIdBytes(length)) id += ALPHABET[byte % ALPHABET.length]
  return id
}
