import type {PoolInstance} from '../pools/types.js'

/** A non-empty string field of the instance's pool entry. */
export function instanceField(instance: PoolInstance, name: string): string | undefined {
  const value = instance.raw[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** The instance's own outbound proxy, overriding HTTPS_PROXY and friends. */
export function proxyOf(instance: PoolInstance): string | undefined {
  return instanceField(instance, 'PROXY_URL')
}

/** Model ids from an OpenAI- or Anthropic-style list: `{data: [{id}]}`. */
export function dataIds(body: unknown): string[] {
  const data = (body as {data?: unknown})?.data
  return Array.isArray(data)
    ? data.map((m) => (m as {id?: unknown}).id).filter((id): id is string => typeof id === 'string')
    : []
}
