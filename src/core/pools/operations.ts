import {randomUUID} from 'node:crypto'
import {resolve} from 'node:path'
import {AppError, errorMessage, UsageError} from '../errors.js'
import {readCredentialJson, type CredentialJson} from '../oauth/credential-file.js'
import {TYPE_FIELDS} from './fields.js'
import {findInstance} from './lookup.js'
import {isValidUrl, routingProblems, toInstance} from './schema.js'
import type {PoolStore} from './store.js'
import {
  PROVIDER_TYPES,
  isProviderType,
  type PoolDocument,
  type PoolInstance,
  type ProviderType,
  type RawInstance,
} from './types.js'
import {nearest} from '../text.js'

export function parseProviderType(input: string): ProviderType {
  if (isProviderType(input)) return input
  const guess = nearest(input, PROVIDER_TYPES)
  throw new UsageError(`Unknown provider type "${input}".${guess ? ` Did you mean "${guess}"?` : ''}`, {
    code: 'unknown_type',
    suggestions: [`Valid types: ${PROVIDER_TYPES.join(', ')}.`],
  })
}

/** The status fields every new instance is written with, explicitly, as in the AIClient-2-API example. */
export function newInstanceFields(uuid: string, checkModelName: string | null = null): RawInstance {
  return {checkModelName, uuid, isHealthy: true, lastUsed: null, usageCount: 0, errorCount: 0, lastErrorTime: null}
}

export interface NewInstance {
  type: ProviderType
  key?: string
  baseUrl?: string
  credsFile?: string
  projectId?: string
  name?: string
  checkModel?: string
  disabled?: boolean
  allowDuplicate?: boolean
  routing?: RoutingFields
}

/** An instance's routing fields as `pool add` and `pool set` write them; a null model list is taken out. */
export interface RoutingFields {
  priority?: number
  weight?: number
  concurrencyLimit?: number
  queueLimit?: number
  supportedModels?: string[] | null
  notSupportedModels?: string[] | null
}

/** The routing flags of `pool add` and `pool set`, as typed. */
export interface RoutingFlags {
  priority?: string
  weight?: string
  'concurrency-limit'?: string
  'queue-limit'?: string
  'supported-models'?: string
  'not-supported-models'?: string
}

const NUMBER_FLAGS = [
  ['priority', 'priority'],
  ['weight', 'weight'],
  ['concurrency-limit', 'concurrencyLimit'],
  ['queue-limit', 'queueLimit'],
] as const

const LIST_FLAGS = [
  ['supported-models', 'supportedModels'],
  ['not-supported-models', 'notSupportedModels'],
] as const

/**
 * The routing flags as field values, or a UsageError that says what is accepted: any number for a priority (higher
 * first), a number ≥ 0 for a weight (0 keeps the instance out of weighted rotation), whole numbers ≥ 0 for the
 * limits, and comma-separated model names for the lists ("" takes a list out).
 */
export function parseRoutingFlags(flags: RoutingFlags): RoutingFields {
  const fields: RoutingFields = {}
  for (const [flag, field] of NUMBER_FLAGS) {
    const text = flags[flag]
    if (text === undefined) continue
    const value = text.trim() === '' ? NaN : Number(text)
    const problem = routingProblems({[field]: value})[field]
    if (problem) throw new UsageError(`--${flag} ${problem}, not "${text}".`, {code: 'invalid_flag'})
    fields[field] = value
  }
  for (const [flag, field] of LIST_FLAGS) {
    const text = flags[flag]
    if (text === undefined) continue
    const names = text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '')
    fields[field] = names.length === 0 ? null : names
  }
  return fields
}

/** How `pool set` and `pool add` say what they wrote: `priority 10`, `supportedModels gpt-5*, o3`, `queueLimit none`. */
export function describeRoutingFields(fields: RoutingFields): string[] {
  return Object.entries(fields).map(([name, value]) =>
    value === null ? `${name} cleared` : `${name} ${Array.isArray(value) ? value.join(', ') : String(value)}`,
  )
}

/** Writes routing fields into an entry: a null list is removed, so the instance serves every model again. */
function writeRouting(raw: RawInstance, fields: RoutingFields): RawInstance {
  for (const [name, value] of Object.entries(fields)) {
    if (value === null) delete raw[name]
    else raw[name] = value
  }
  return raw
}

/** Checks what can be checked without the lock, then appends under it; returns the stored instance. */
export async function addInstance(
  store: PoolStore,
  input: NewInstance,
  newUuid: () => string = randomUUID,
): Promise<PoolInstance> {
  const fields = TYPE_FIELDS[input.type]
  const raw: RawInstance = {}
  if (fields.keyField) {
    if (!input.key)
      throw new UsageError(`${input.type} needs an API key: pass --key KEY, --key - (stdin) or set AICLIENT_KEY.`, {
        code: 'missing_flag',
      })
    raw[fields.keyField] = input.key
  } else if (input.key) {
    throw new UsageError(`${input.type} takes no --key; it uses a credential file (--creds-file).`, {
      code: 'conflicting_flags',
    })
  }
  if (fields.credsField) {
    if (!input.credsFile) {
      throw new UsageError(`${input.type} needs --creds-file FILE.`, {
        code: 'missing_flag',
        suggestions: [`Create one with \`${fields.loginCommand} --add-to-pool\`.`],
      })
    }
    const credsFile = resolve(input.credsFile)
    await checkCredentialFile(credsFile, fields.loginCommand!)
    raw[fields.credsField] = credsFile
  } else if (input.credsFile) {
    throw new UsageError(`${input.type} takes no --creds-file; it uses an API key (--key).`, {
      code: 'conflicting_flags',
    })
  }
  if (input.projectId !== undefined) {
    if (input.type !== 'gemini-cli-oauth')
      throw new UsageError('--project-id is only for gemini-cli-oauth.', {code: 'conflicting_flags'})
    raw.PROJECT_ID = input.projectId
  }
  const baseUrl = input.baseUrl ?? fields.defaultBaseUrl
  if (baseUrl !== undefined) {
    if (!isValidUrl(baseUrl))
      throw new UsageError(`--base-url "${baseUrl}" is not an http(s) URL.`, {code: 'invalid_url'})
    raw[fields.baseUrlField] = baseUrl
  }
  if (input.name !== undefined) raw.customName = input.name
  Object.assign(raw, newInstanceFields(newUuid(), input.checkModel ?? null))
  if (input.disabled) raw.isDisabled = true
  if (input.routing) writeRouting(raw, input.routing)

  const {result: index} = await store.update((doc) => {
    const list = listFor(doc, input.type)
    if (fields.keyField && !input.allowDuplicate && list.some((item) => item[fields.keyField!] === input.key)) {
      throw new UsageError(`That ${fields.keyField} is already in the ${input.type} pool.`, {
        code: 'duplicate_key',
        suggestions: ['Pass --allow-duplicate to add it again anyway.'],
      })
    }
    if (input.name && list.some((item) => item.customName === input.name)) {
      throw new UsageError(`An ${input.type} instance named "${input.name}" already exists.`, {code: 'duplicate_name'})
    }
    return list.push(raw) - 1
  })
  return toInstance(input.type, raw, store.dir, {index: index as number, id: `${input.type}/${raw.uuid as string}`})
}

/** A credential file must exist and hold a JSON object; errors never show its content (it may be any file). */
async function checkCredentialFile(file: string, loginCommand: string): Promise<void> {
  const suggestions = [`Log in first: \`${loginCommand} --output ${file}\`.`]
  let content: CredentialJson | null
  try {
    content = await readCredentialJson(file)
  } catch (error) {
    throw new AppError(`Credential file ${errorMessage(error)}`, {code: 'bad_credentials_file', suggestions})
  }
  if (!content)
    throw new AppError(`Credential file ${file} does not exist.`, {code: 'bad_credentials_file', suggestions})
}

function listFor(doc: PoolDocument, type: ProviderType): RawInstance[] {
  if (!Array.isArray(doc[type])) doc[type] = []
  return doc[type] as RawInstance[]
}

/** Selects instances by an optional reference and type; with neither, all of them. */
function select(instances: PoolInstance[], ref: string | undefined, type: ProviderType | undefined): PoolInstance[] {
  const pool = type ? instances.filter((i) => i.type === type) : instances
  return ref === undefined ? pool : [findInstance(pool, ref)]
}

/**
 * Finds the targets in the current file (under the lock) and changes exactly those entries: the instances of the
 * snapshot hold the very objects of the document being written, so two entries sharing a uuid cannot be confused.
 * Returns the changed instances.
 */
async function modify(
  store: PoolStore,
  ref: string | undefined,
  type: ProviderType | undefined,
  change: (raw: RawInstance, doc: PoolDocument, instance: PoolInstance) => void,
): Promise<PoolInstance[]> {
  const {result} = await store.update((doc, snapshot) => {
    const targets = select(snapshot.instances, ref, type)
    for (const target of targets) change(target.raw, doc, target)
    return targets.length > 0 ? targets.map((t) => toInstance(t.type, t.raw, store.dir, t)) : false
  })
  return result === false ? [] : result
}

export function removeInstance(store: PoolStore, ref: string, type?: ProviderType): Promise<PoolInstance[]> {
  return modify(store, ref, type, (raw, doc, instance) => {
    const list = doc[instance.type] as RawInstance[]
    list.splice(list.indexOf(raw), 1)
  })
}

export function setDisabled(
  store: PoolStore,
  ref: string,
  disabled: boolean,
  type?: ProviderType,
): Promise<PoolInstance[]> {
  return modify(store, ref, type, (raw) => {
    raw.isDisabled = disabled
  })
}

export function resetInstances(
  store: PoolStore,
  ref: string | undefined,
  type?: ProviderType,
): Promise<PoolInstance[]> {
  return modify(store, ref, type, (raw) => {
    raw.isHealthy = true
    raw.errorCount = 0
    if ('lastErrorReason' in raw) raw.lastErrorReason = null
    if ('cooldownUntil' in raw) raw.cooldownUntil = null
  })
}

/** Sets the routing fields given on one instance; the other fields of its entry are kept as they are. */
export function setRouting(
  store: PoolStore,
  ref: string,
  fields: RoutingFields,
  type?: ProviderType,
): Promise<PoolInstance[]> {
  return modify(store, ref, type, (raw) => writeRouting(raw, fields))
}

/** Resolves the instance a command names, for confirmation prompts before a change. */
export async function resolveInstance(store: PoolStore, ref: string, type?: ProviderType): Promise<PoolInstance> {
  const {instances} = await store.read()
  return select(instances, ref, type)[0]!
}
