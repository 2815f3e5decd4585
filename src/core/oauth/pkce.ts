import {createHash, randomBytes} from 'node:crypto'

export interface PkcePair {
  verifier: string
  challenge: string
  method: 'S256'
}

/** RFC 7636 S256: a 43-character verifier from 32 random bytes, and its SHA-256, both base64url without padding. */
export function createPkcePair(): PkcePair {
  const verifier = randomBytes(32).toString('base64url')
  return {verifier, challenge: pkceChallenge(verifier), method: 'S256'}
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

export function randomState(bytes = 32, encoding: 'hex' | 'base64url' = 'hex'): string {
  return randomBytes(bytes).toString(encoding)
}
