import {CodecError} from './errors.js'

export type JsonObject = Record<string, unknown>

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {}
}

// Removes keys whose value is undefined, so wire bodies only name the fields that are set.
export function compact<T extends JsonObject>(object: T): T {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key]
  return object
}

// Tool arguments travel as JSON text in OpenAI and Anthropic streams; '' means "no arguments".
export function parseJsonObject(text: string): JsonObject | undefined {
  if (text.trim() === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

export function expectObject(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw new CodecError(`${path} must be an object`)
  return value
}

export function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new CodecError(`${path} must be an array`)
  return value
}

export function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new CodecError(`${path} must be a string`)
  return value
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : expectString(value, path)
}

export function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CodecError(`${path} must be a number`)
  return value
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw new CodecError(`${path} must be a boolean`)
  return value
}
