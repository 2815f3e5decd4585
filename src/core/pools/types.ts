import type {TokenTotals} from '../usage/totals.js'

export const PROVIDER_TYPES = [
  'openai-custom',
  'claude-custom',
  'gemini-cli-oauth',
  'claude-kiro-oauth',
  'openai-qwen-oauth',
  'openaiResponses-custom',
] as const

export type ProviderType = (typeof PROVIDER_TYPES)[number]

export function isProviderType(value: string): value is ProviderType {
  return (PROVIDER_TYPES as readonly string[]).includes(value)
}

/** One instance as it is stored: every field the file holds, known or not. */
export type RawInstance = Record<string, unknown>

/** The pool file's top level: provider type → instances, plus whatever else the user keeps there. */
export type PoolDocument = Record<string, unknown>

export interface InstanceStatus {
  isHealthy: boolean
  isDisabled: boolean
  usageCount: number
  errorCount: number
  /** The tokens answers have used, from the `inputTokens`… fields beside usageCount (see usage/totals.ts). */
  tokens: TokenTotals
  lastUsed: string | null
  lastErrorTime: string | null
  lastHealthCheckTime: string | null
  /** Why the instance was last marked unhealthy (auth, server, network, …), kept for `pool list`. */
  lastErrorReason: string | null
}

/** An instance as the rest of the program sees it: status fields filled in, credential paths absolute. */
export interface PoolInstance extends InstanceStatus {
  type: ProviderType
  /** Position in its type's list in the read this came from: the instance is `${type}[${index}]` there. */
  index: number
  /**
   * Unique within one read of the file: `type/uuid`, or `type/uuid#2` for the second entry of the type with that uuid
   * (a hand-copied entry), so that such entries stay distinct instances instead of one shadowing the other.
   */
  id: string
  uuid: string
  name: string | null
  checkModelName: string | null
  /** Routing tier: while any instance of a higher priority can serve, lower ones get no traffic. Default 0. */
  priority: number
  /** Share of traffic under the weighted strategy; 0 takes the instance out of rotation. Default 1. */
  weight: number
  /** Requests it may have in flight at once; a full instance is passed by. 0 (the default) is no limit. */
  concurrencyLimit: number
  /** Requests that may wait for a slot when the type's instances are all full; the type's bound is their sum. */
  queueLimit: number
  /** The only models it serves (`*` matches any run of characters); null serves every model. */
  supportedModels: string[] | null
  /** Models it never serves, even when `supportedModels` names them. */
  notSupportedModels: string[] | null
  /** The stored object, untouched; credential paths here are as the user wrote them. */
  raw: RawInstance
  /** Credential file path resolved against the pool file's directory, for the OAuth types. */
  credsFile: string | null
}
