import type {IncomingHttpHeaders} from 'node:http'
import type {PoolInstance} from '../pools/types.js'
import type {ProviderAdapter} from '../providers/types.js'
import type {Quota} from './types.js'

/**
 * The instance's quota after a health check: from the check's answer headers where the vendor sends rate limits
 * there, else from the vendor's quota endpoint. Best-effort: a quota that cannot be read is null, never a failed
 * check.
 */
export async function readQuota(
  adapter: ProviderAdapter,
  instance: PoolInstance,
  headers: IncomingHttpHeaders,
  signal: AbortSignal,
  now: () => number,
): Promise<Quota | null> {
  try {
    if (adapter.quotaFromHeaders) return adapter.quotaFromHeaders(headers, now())
    return (await adapter.fetchQuota?.(instance, signal, now())) ?? null
  } catch {
    return null
  }
}
