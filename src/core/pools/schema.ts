import {isAbsolute, resolve} from 'node:path'
import {AppError} from '../errors.js'
import {rememberSecrets, secretValues} from '../secrets.js'
import {TYPE_FIELDS} from './fields.js'
import {PROVIDER_TYPES, type PoolDocument, type PoolInstance, type ProviderType, type RawInstance} from './types.js'

export class SchemaError extends AppError {
  constructor(file: string, readonly path: string, problem: string) {
    super(`${file}: ${path}: ${problem}. The file was not changed.`, {code: 'invalid_pool_file'})
    this.name = 'SchemaError'
  }
}

const STRING_OR_NULL = ['lastUsed', 'lastErrorTime', 'lastHealthCheckTime', 'checkModelName', 'customName']
const COUNTERS = ['usageCount', 'errorCount']
const BOOLEANS = ['isHealthy', 'isDisabled']

export function isValidUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

/**
 * Checks the fields aiclient relies on and nothing else: unknown keys and fields are the user's business and
 * are kept as they are. Throws a SchemaError naming the JSON path of the first problem.
 */
export function validateDocument(doc: unknown, file: string): asserts doc is PoolDocument {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SchemaError(file, '$', 'the top level must be an object whose keys are provider types')
  }
  const record = doc as Record<string, unknown>
  for (const type of PROVIDER_TYPES) {
    const list = record[type]
    if (list === undefined) continue
    if (!Array.isArray(list)) throw new SchemaError(file, type, 'must be an array of instances')
    list.forEach((item, index) => validateInstance(type, item, `${type}[${index}]`, file))
  }
}

function validateInstance(type: ProviderType, item: unknown, path: string, file: string): void {
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw new SchemaError(file, path, 'must be an object')
  const inst = item as RawInstance
  const fail = (field: string, problem: string) => new SchemaError(file, `${path}.${field}`, problem)
  if (typeof inst.uuid !== 'string' || inst.uuid.trim() === '') throw fail('uuid', 'must be a non-empty string')
  for (const field of BOOLEANS) {
    if (inst[field] !== undefined && typeof inst[field] !== 'boolean') throw fail(field, 'must be true or false')
  }
  for (const field of COUNTERS) {
    const value = inst[field]
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) {
      throw fail(field, 'must be a whole number ≥ 0')
    }
  }
  for (const field of STRING_OR_NULL) {
    const value = inst[field]
    if (value !== undefined && value !== null && typeof value !== 'string') throw fail(field, 'must be a string or null')
  }
  const fields = TYPE_FIELDS[type]
  for (const field of [fields.keyField, fields.credsField]) {
    if (field && inst[field] !== undefined && typeof inst[field] !== 'string') throw fail(field, 'must be a string')
  }
  for (const field of [fields.baseUrlField, ...fields.extraUrlFields, 'PROXY_URL']) {
    const value = inst[field]
    if (value === undefined || value === null || value === '') continue
    if (typeof value !== 'string' || !isValidUrl(value)) throw fail(field, 'not a URL')
  }
}

/** The in-memory view: status fields filled with their defaults, credential paths made absolute. */
export function toInstance(type: ProviderType, raw: RawInstance, poolDir: string): PoolInstance {
  // Every instance read from the pool passes here: its keys join the secrets that errors and logs are scrubbed of.
  rememberSecrets(`${type}/${String(raw.uuid)}`, secretValues(raw))
  const credsField = TYPE_FIELDS[type].credsField
  const credsPath = credsField ? raw[credsField] : undefined
  return {
    type,
    uuid: raw.uuid as string,
    name: typeof raw.customName === 'string' && raw.customName !== '' ? raw.customName : null,
    checkModelName: typeof raw.checkModelName === 'string' ? raw.checkModelName : null,
    isHealthy: raw.isHealthy !== false,
    isDisabled: raw.isDisabled === true,
    usageCount: typeof raw.usageCount === 'number' ? raw.usageCount : 0,
    errorCount: typeof raw.errorCount === 'number' ? raw.errorCount : 0,
    lastUsed: stringOrNull(raw.lastUsed),
    lastErrorTime: stringOrNull(raw.lastErrorTime),
    lastHealthCheckTime: stringOrNull(raw.lastHealthCheckTime),
    lastErrorReason: stringOrNull(raw.lastErrorReason),
    raw,
    credsFile:
      typeof credsPath === 'string' && credsPath !== ''
        ? isAbsolute(credsPath)
          ? credsPath
          : resolve(poolDir, credsPath)
        : null,
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

export function instancesOf(doc: PoolDocument, poolDir: string, type?: ProviderType): PoolInstance[] {
  const types = type ? [type] : PROVIDER_TYPES
  return types.flatMap((t) => {
    const list = doc[t]
    return Array.isArray(list) ? list.map((raw) => toInstance(t, raw as RawInstance, poolDir)) : []
  })
}
