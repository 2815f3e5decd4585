import type {ProviderAdapter} from '../providers/types.js'
import type {BodySource} from './context.js'
import type {ClientCall, ProxyDeps} from './types.js'

const OPERATION_NAMES = {compact: 'Responses compaction', embeddings: 'embeddings'} as const

/**
 * Whether the client's bytes and the upstream's answer pass untouched: the upstream speaks the client's protocol, or
 * the call is an operation, which only upstreams having it natively serve.
 */
export function passesThrough(call: ClientCall, adapter: ProviderAdapter): boolean {
  return call.operation !== undefined || (call.protocol === adapter.protocol && adapter.passthrough)
}

/** An operation's body: the client's bytes, with the model the upstream sees when a `type:` prefix was removed. */
export function operationBody(call: ClientCall, deps: ProxyDeps): BodySource {
  const body = call.modelRewritten ? JSON.stringify({...call.json, model: call.model}) : call.body
  const codec = deps.codecs[call.protocol]
  const shared = Promise.resolve({body, createStreamDecoder: codec.createStreamDecoder.bind(codec)})
  return () => shared
}

/**
 * Why the call's type cannot serve its operation, naming the types that can; undefined when it can. It is the
 * request that asks the wrong type (the server serves the operation elsewhere), never a missing model.
 */
export function operationRefusal(call: ClientCall, adapter: ProviderAdapter, deps: ProxyDeps): string | undefined {
  const {operation} = call
  if (operation === undefined || adapter.operations?.includes(operation)) return undefined
  const name = OPERATION_NAMES[operation]
  const able = Object.values(deps.adapters)
    .filter((other) => other?.operations?.includes(operation))
    .map((other) => other!.type)
  const path = call.route.replace(/^\/(?!v1\/)[^/]+(?=\/)/, '')
  const where =
    able.length === 0
      ? 'No provider type of this server has one.'
      : `${able.join(', ')} serve ${name}: choose one with a path prefix (/${able[0]}${path}) or a Model-Provider header.`
  return `Provider type ${call.type} has no ${name} endpoint. ${where}`
}
