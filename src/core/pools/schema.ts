import {isAbsolute, resolve} from 'node:path'
import {AppError} from '../errors.js'
import {aliasTableProblems} from '../models/aliases.js'
import {rememberSecrets, secretValues} from '../secrets.js'
import {TYPE_FIELDS} from './fields.js'
import {PROVIDER_TYPES, type PoolDocument, type PoolInstance, type ProviderType, type RawInstance} from './types.js'

export class SchemaError extends AppError {
  constructor(
    file: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${file}: ${path}: ${problem}. The file was not changed.`, {code: 'invalid_pool_file'})
    this.name = 'SchemaError'
  }
}

const STRING_OR_NULL = ['lastUsed', 'lastErrorTime', 'lastHealthCheckTime', 'checkModelName', 'customName']
const COUNTERS = ['usageCount', 'errorCount']
const BOOLEANS = ['isHealthy', 'isDisabled']
const MODEL_LISTS = ['supportedModels', 'notSupportedModels']

export function isValidUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

export interface SchemaProblem {
  /** JSON path: `$`, `openai-custom`, `openai-custom[1]` or `openai-custom[1].OPENAI_BASE_URL`. */
  path: string
  problem: string
}

/**
 * Checks the fields aiclient relies on and nothing else: unknown keys and fields are the user's business and
 * are kept as they are. Throws a SchemaError naming the JSON path of the first problem.
 */
export function validateDocument(doc: unknown, file: string): asserts doc is PoolDocument {
  const [first] = schemaProblems(doc)
  if (first) throw new SchemaError(file, first.path, first.problem)
}

/** Every field problem of the document, in file order (types in their fixed order), for `pool doctor`. */
export function schemaProblems(doc: unknown): SchemaProblem[] {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    return [{path: '$', problem: 'the top level must be an object whose keys are provider types'}]
  }
  const record = doc as Record<string, unknown>
  const problems: SchemaProblem[] = []
  for (const type of PROVIDER_TYPES) {
    const list = record[type]
    if (list === undefined) continue
    if (!Array.isArray(list)) problems.push({path: type, problem: 'must be an array of instances'})
    else list.forEach((item, index) => problems.push(...instanceProblems(type, item, `${type}[${index}]`)))
  }
  return problems
}

function instanceProblems(type: ProviderType, item: unknown, path: string): SchemaProblem[] {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return [{path, problem: 'must be an object'}]
  const inst = item as RawInstance
  const problems: SchemaProblem[] = []
  const fail = (field: string, problem: string) => problems.push({path: `${path}.${field}`, problem})
  if (!hasUuid(inst)) fail('uuid', 'must be a non-empty string')
  for (const field of BOOLEANS) {
    if (inst[field] !== undefined && typeof inst[field] !== 'boolean') fail(field, 'must be true or false')
  }
  for (const field of COUNTERS) {
    const value = inst[field]
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0))
      fail(field, 'must be a whole number ≥ 0')
  }
  const routing = routingProblems(inst)
  for (const [field, problem] of Object.entries(routing)) fail(field, problem)
  for (const field of MODEL_LISTS) {
    const value = inst[field]
    if (value === undefined || value === null) continue
    if (!Array.isArray(value)) fail(field, 'must be an array of model names')
    else
      value.forEach((name, index) => {
        if (typeof name !== 'string' || name === '') fail(`${field}[${index}]`, 'must be a non-empty string')
      })
  }
  for (const field of STRING_OR_NULL) {
    const value = inst[field]
    if (value !== undefined && value !== null && typeof value !== 'string') fail(field, 'must be a string or null')
  }
  const fields = TYPE_FIELDS[type]
  for (const field of [fields.keyField, fields.credsField]) {
    if (field && inst[field] !== undefined && typeof inst[field] !== 'string') fail(field, 'must be a string')
  }
  for (const field of [fields.baseUrlField, ...fields.extraUrlFields, 'PROXY_URL']) {
    const value = inst[field]
    if (value === undefined || value === null || value === '') continue
    if (typeof value !== 'string' || !isValidUrl(value)) fail(field, 'not a URL')
  }
  if (inst.modelAliases !== undefined)
    for (const {at, problem} of aliasTableProblems(inst.modelAliases)) fail(`modelAliases${at}`, problem)
  return problems
}

export const DEFAULT_PRIORITY = 0
export const DEFAULT_WEIGHT = 1

/** What is wrong with an instance's routing numbers, by field; `pool add` and `pool set` check their flags with it. */
export function routingProblems(fields: {
  priority?: unknown
  weight?: unknown
  concurrencyLimit?: unknown
  queueLimit?: unknown
}): {priority?: string; weight?: string; concurrencyLimit?: string; queueLimit?: string} {
  const {priority, weight} = fields
  const limit = (value: unknown) =>
    value !== undefined && !(Number.isInteger(value) && (value as number) >= 0) && LIMIT_PROBLEM
  return {
    ...(priority !== undefined &&
      !(typeof priority === 'number' && Number.isFinite(priority)) && {priority: 'must be a number'}),
    ...(weight !== undefined &&
      !(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0) && {weight: 'must be a number ≥ 0'}),
    ...(limit(fields.concurrencyLimit) && {concurrencyLimit: LIMIT_PROBLEM}),
    ...(limit(fields.queueLimit) && {queueLimit: LIMIT_PROBLEM}),
  }
}

const LIMIT_PROBLEM = 'must be a whole number ≥ 0 (0 is no limit)'

export function hasUuid(raw: RawInstance): raw is RawInstance & {uuid: string} {
  return typeof raw.uuid === 'string' && raw.uuid.trim() !== ''
}

export interface DuplicateUuid {
  type: ProviderType
  index: number
  uuid: string
  /** JSON path of the entry whose uuid repeats an earlier one: `openai-custom[3]`. */
  path: string
  /** JSON path of the first entry with that uuid: `openai-custom[1]`. */
  original: string
}

/**
 * Entries whose uuid an earlier entry already has, across all types (commands look uuids up across types). The
 * first entry with a uuid is the original; every later one is a copy.
 */
export function duplicateUuids(doc: PoolDocument): DuplicateUuid[] {
  const first = new Map<string, string>()
  const duplicates: DuplicateUuid[] = []
  for (const type of PROVIDER_TYPES) {
    const list = doc[type]
    if (!Array.isArray(list)) continue
    list.forEach((raw: unknown, index) => {
      if (!raw || typeof raw !== 'object' || !hasUuid(raw as RawInstance)) return
      const uuid = (raw as {uuid: string}).uuid
      const path = `${type}[${index}]`
      const original = first.get(uuid)
      if (original === undefined) first.set(uuid, path)
      else duplicates.push({type, index, uuid, path, original})
    })
  }
  return duplicates
}

/** The warning for a duplicate uuid: the document is still served (each entry as its own instance), but must be fixed. */
export function duplicateUuidWarning(file: string, duplicate: DuplicateUuid): string {
  return `${file}: ${duplicate.path}.uuid duplicates ${duplicate.original}.uuid. Both entries are used as separate instances, but a uuid cannot tell them apart: run \`aiclient pool doctor --fix\` to give the copy a new uuid.`
}

/** Where an instance sits in one read of the file; see PoolInstance.index and .id. */
export interface InstancePlace {
  index: number
  id: string
}

/** The in-memory view: status fields filled with their defaults, credential paths made absolute. */
export function toInstance(type: ProviderType, raw: RawInstance, poolDir: string, place?: InstancePlace): PoolInstance {
  // Every instance read from the pool passes here: its keys join the secrets that errors and logs are scrubbed of.
  rememberSecrets(`${type}/${String(raw.uuid)}`, secretValues(raw))
  const credsField = TYPE_FIELDS[type].credsField
  const credsPath = credsField ? raw[credsField] : undefined
  return {
    type,
    index: place?.index ?? -1,
    id: place?.id ?? `${type}/${String(raw.uuid)}`,
    uuid: raw.uuid as string,
    name: typeof raw.customName === 'string' && raw.customName !== '' ? raw.customName : null,
    checkModelName: typeof raw.checkModelName === 'string' ? raw.checkModelName : null,
    priority: typeof raw.priority === 'number' ? raw.priority : DEFAULT_PRIORITY,
    weight: typeof raw.weight === 'number' ? raw.weight : DEFAULT_WEIGHT,
    concurrencyLimit: typeof raw.concurrencyLimit === 'number' ? raw.concurrencyLimit : 0,
    queueLimit: typeof raw.queueLimit === 'number' ? raw.queueLimit : 0,
    supportedModels: modelList(raw.supportedModels),
    notSupportedModels: modelList(raw.notSupportedModels),
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

function modelList(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : null
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

/**
 * The id of each entry of one type's list, in order: `type/uuid`, then `type/uuid#2`, `#3` for repeats (skipping a
 * suffix that another entry's own uuid already spells, so ids never collide).
 */
function entryIds(type: ProviderType, list: readonly unknown[]): string[] {
  const uuids = list.map((raw) => String((raw as RawInstance | null)?.uuid))
  const taken = new Set(uuids.map((uuid) => `${type}/${uuid}`))
  const seen = new Set<string>()
  return uuids.map((uuid) => {
    const plain = `${type}/${uuid}`
    if (!seen.has(plain)) {
      seen.add(plain)
      return plain
    }
    let n = 2
    while (taken.has(`${plain}#${n}`)) n++
    taken.add(`${plain}#${n}`)
    return `${plain}#${n}`
  })
}

export function instancesOf(doc: PoolDocument, poolDir: string, type?: ProviderType): PoolInstance[] {
  const types = type ? [type] : PROVIDER_TYPES
  return types.flatMap((t) => {
    const list = doc[t]
    if (!Array.isArray(list)) return []
    const ids = entryIds(t, list)
    return list.map((raw, index) => toInstance(t, raw as RawInstance, poolDir, {index, id: ids[index]!}))
  })
}

/**
 * Every entry of a fresh read of the file by instance id, for read–merge–write under the lock: a uuid that repeats
 * is matched by its occurrence, never by the uuid alone (which would change the first entry that has it).
 */
export function entriesById(doc: PoolDocument): Map<string, RawInstance> {
  const entries = new Map<string, RawInstance>()
  for (const type of PROVIDER_TYPES) {
    const list = doc[type]
    if (!Array.isArray(list)) continue
    entryIds(type, list).forEach((id, index) => entries.set(id, list[index] as RawInstance))
  }
  return entries
}

/** The JSON path of an instance's entry: `openai-custom[3]`. */
export function instancePath(instance: Pick<PoolInstance, 'type' | 'index'>): string {
  return `${instance.type}[${instance.index}]`
}
