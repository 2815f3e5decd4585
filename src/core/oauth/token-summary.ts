import type {PoolInstance, ProviderType} from '../pools/types.js'
import {readCredentialJson} from './credential-file.js'
import {geminiCredentialSpec} from './gemini.js'
import {kiroCredentialSpec} from './kiro.js'
import {qwenCredentialSpec} from './qwen.js'
import type {AccessToken, CredentialSpec, TokenStatus} from './token-manager.js'

const SPECS: Partial<Record<ProviderType, CredentialSpec<AccessToken>>> = {
  'openai-qwen-oauth': qwenCredentialSpec,
  'gemini-cli-oauth': geminiCredentialSpec,
  'claude-kiro-oauth': kiroCredentialSpec,
}

export interface TokenSummary {
  /** valid | expired (a refresh is due at next use) | missing | unreadable | relogin_needed | refresh_failing */
  state: 'valid' | 'expired' | 'missing' | 'unreadable' | 'relogin_needed' | 'refresh_failing'
  expiresAt: string | null
}

/** What `pool list` knows without touching the network: the access token's expiry, read from the file. */
export async function readTokenSummary(instance: PoolInstance, now: number): Promise<TokenSummary | null> {
  const spec = SPECS[instance.type]
  if (!spec) return null
  if (!instance.credsFile) return {state: 'missing', expiresAt: null}
  try {
    const content = await readCredentialJson(instance.credsFile)
    if (!content) return {state: 'missing', expiresAt: null}
    const token = spec.read(content)
    return {state: token.expiresAt.getTime() > now ? 'valid' : 'expired', expiresAt: token.expiresAt.toISOString()}
  } catch {
    return {state: 'unreadable', expiresAt: null}
  }
}

/** The live view while serving, from the instance's token manager; null until the file was first read. */
export function summariseStatus(status: TokenStatus): TokenSummary | null {
  if (status.state === 'unknown') return null
  const expiresAt = status.expiresAt?.toISOString() ?? null
  if (status.state === 'relogin_needed') return {state: 'relogin_needed', expiresAt}
  if (status.lastError) return {state: 'refresh_failing', expiresAt}
  return {state: status.state === 'expired' ? 'expired' : 'valid', expiresAt}
}

/** "valid until 14:05 (in 52m)" and friends, short enough for a table cell. */
export function describeToken(summary: TokenSummary, now: number, short = false): string {
  switch (summary.state) {
    case 'valid': {
      const minutes = Math.round((Date.parse(summary.expiresAt!) - now) / 60_000)
      const span = minutes >= 120 ? `${Math.round(minutes / 60)}h` : `${minutes}m`
      return short ? `in ${span}` : `valid until ${summary.expiresAt!.slice(11, 16)}Z (in ${span})`
    }
    case 'expired':
      return short ? 'expired' : 'expired (refreshed at next use)'
    case 'missing':
      return short ? 'no file' : 'credential file missing'
    case 'unreadable':
      return short ? 'bad file' : 'credential file unreadable'
    case 'relogin_needed':
      return short ? 're-login' : 're-login needed'
    case 'refresh_failing':
      return short ? 'refresh ✖' : 'refresh failing'
  }
}
