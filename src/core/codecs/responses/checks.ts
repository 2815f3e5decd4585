import {CodecError} from '../errors.js'
import {isObject, type JsonObject} from '../values.js'

// Validation for Responses requests, worded like OpenAI's own 400 answers so that clients (and the people
// reading their logs) see the messages they know from the real API.

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

export function missing(path: string): CodecError {
  return new CodecError(`Missing required parameter: '${path}'.`)
}

export function invalidType(path: string, expected: string, value: unknown): CodecError {
  return new CodecError(`Invalid type for '${path}': expected ${expected}, but got ${describe(value)} instead.`)
}

export function invalidValue(path: string, value: string, supported: readonly string[]): CodecError {
  const list = supported.map((entry) => `'${entry}'`).join(', ')
  return new CodecError(`Invalid value for '${path}': '${value}'. Supported values are: ${list}.`)
}

export const absent = (value: unknown): value is null | undefined => value === undefined || value === null

export function requireObject(value: unknown, path: string): JsonObject {
  if (absent(value)) throw missing(path)
  if (!isObject(value)) throw invalidType(path, 'an object', value)
  return value
}

export function requireString(value: unknown, path: string): string {
  if (absent(value)) throw missing(path)
  if (typeof value !== 'string') throw invalidType(path, 'a string', value)
  return value
}

export function optionalObject(value: unknown, path: string): JsonObject | undefined {
  return absent(value) ? undefined : requireObject(value, path)
}

export function optionalArray(value: unknown, path: string): unknown[] | undefined {
  if (absent(value)) return undefined
  if (!Array.isArray(value)) throw invalidType(path, 'an array', value)
  return value
}

export function optionalString(value: unknown, path: string): string | undefined {
  return absent(value) ? undefined : requireString(value, path)
}

export function optionalNumber(value: unknown, path: string): number | undefined {
  if (absent(value)) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidType(path, 'a number', value)
  return value
}

export function optionalInteger(value: unknown, path: string): number | undefined {
  if (absent(value)) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(path, 'an integer', value)
  return value
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (absent(value)) return undefined
  if (typeof value !== 'boolean') throw invalidType(path, 'a boolean', value)
  return value
}
