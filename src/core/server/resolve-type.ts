import type {IncomingHttpHeaders} from 'node:http'
import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'
import {HttpError} from './http-error.js'

export interface TypeChoice {
  /** The type named by a path prefix (`/claude-custom/v1/messages`). */
  typePrefix?: ProviderType
  /** The request's `Model-Provider` header, as sent. */
  header?: string | string[]
  /** The configured default (`--model-provider`, `MODEL_PROVIDER`). */
  defaultType?: ProviderType
  /** The types the pool has instances of; asked only when nothing else chose. */
  configuredTypes: () => readonly ProviderType[]
}

/**
 * The provider type that serves a request, and the model its upstream sees. Precedence, first that applies:
 * path prefix → Model-Provider header → `type:` model prefix → configured default → the only configured type.
 * A `type:` model prefix is removed whichever step chose the type.
 */
export function resolveType(choice: TypeChoice, rawModel: string): {type: ProviderType; model: string} {
  const colon = rawModel.indexOf(':')
  const modelPrefix = colon > 0 ? rawModel.slice(0, colon) : undefined
  const typed = modelPrefix !== undefined && isProviderType(modelPrefix) ? modelPrefix : undefined
  const model = typed ? rawModel.slice(colon + 1) : rawModel
  const named = choice.typePrefix ?? headerType(choice.header) ?? typed
  if (named) return {type: named, model}
  if (choice.defaultType) return {type: choice.defaultType, model: rawModel}
  const types = choice.configuredTypes()
  if (types.length === 1) return {type: types[0]!, model: rawModel}
  if (types.length === 0) throw new HttpError(503, 'The pool has no instances. Add one with `aiclient pool add`.')
  throw new HttpError(
    400,
    `Several provider types are configured (${types.join(', ')}) and no default is set. Choose one with a path prefix (/claude-custom/v1/messages), a Model-Provider header, a "type:" prefix on the model (claude-custom:claude-sonnet-4-6), or a default (--model-provider / MODEL_PROVIDER).`,
  )
}

/** The type a Model-Provider header names; undefined when there is none; a 400 when it names no known type. */
export function headerType(header: IncomingHttpHeaders['model-provider']): ProviderType | undefined {
  if (typeof header !== 'string' || header === '') return undefined
  if (!isProviderType(header)) throw unknownType(header, 'Model-Provider header')
  return header
}

export function unknownType(name: string, where: string): HttpError {
  return new HttpError(
    400,
    `Unknown provider type "${name}" in the ${where}. Valid types: ${PROVIDER_TYPES.join(', ')}.`,
  )
}
