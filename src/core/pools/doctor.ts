import {randomUUID} from 'node:crypto'
import {isAbsolute, resolve} from 'node:path'
import {errorMessage} from '../errors.js'
import {readCredentialJson} from '../oauth/credential-file.js'
import {TYPE_FIELDS} from './fields.js'
import {duplicateUuids, hasUuid, schemaProblems} from './schema.js'
import type {PoolStore} from './store.js'
import {PROVIDER_TYPES, type PoolDocument, type RawInstance} from './types.js'

export type ProblemKind = 'invalid_field' | 'missing_uuid' | 'duplicate_uuid' | 'duplicate_name' | 'credentials_file'

export interface PoolProblem {
  kind: ProblemKind
  /** JSON path of the field: `openai-custom[3].uuid`. */
  path: string
  problem: string
  /** Whether `pool doctor --fix` repairs it; the others need an edit by hand. */
  fixable: boolean
}

export interface UuidFix {
  path: string
  kind: 'missing_uuid' | 'duplicate_uuid'
  /** The uuid the entry had, when it had one (a duplicate). */
  was: string | null
  uuid: string
}

/** Every problem of the pool file that aiclient can see without contacting an upstream, in file order. */
export async function diagnose(doc: unknown, poolDir: string): Promise<PoolProblem[]> {
  const problems: PoolProblem[] = schemaProblems(doc).map(({path, problem}) => {
    const missing = path.endsWith('.uuid')
    return {kind: missing ? 'missing_uuid' : 'invalid_field', path, problem, fixable: missing}
  })
  if (!isDocument(doc)) return problems
  for (const duplicate of duplicateUuids(doc)) {
    problems.push({
      kind: 'duplicate_uuid',
      path: `${duplicate.path}.uuid`,
      problem: `duplicates ${duplicate.original}.uuid`,
      fixable: true,
    })
  }
  problems.push(...duplicateNames(doc), ...(await credentialProblems(doc, poolDir)))
  return problems.sort((a, b) => position(a.path) - position(b.path))
}

/** Sort key of a JSON path in file order: the type's place, then the entry's (the sort is stable within an entry). */
function position(path: string): number {
  const [, type, index] = /^([^[.]*)(?:\[(\d+)\])?/.exec(path)!
  return (PROVIDER_TYPES as readonly string[]).indexOf(type!) * 1e9 + Number(index ?? -1)
}

/** Names are how people address instances, so two entries of a type with one name make both unreachable by it. */
function duplicateNames(doc: PoolDocument): PoolProblem[] {
  const problems: PoolProblem[] = []
  for (const type of PROVIDER_TYPES) {
    const first = new Map<string, number>()
    entries(doc, type).forEach(([raw, index]) => {
      const name = raw.customName
      if (typeof name !== 'string' || name === '') return
      const earlier = first.get(name)
      if (earlier === undefined) first.set(name, index)
      else
        problems.push({
          kind: 'duplicate_name',
          path: `${type}[${index}].customName`,
          problem: `is also the name of ${type}[${earlier}]`,
          fixable: false,
        })
    })
  }
  return problems
}

/** Credential files that are missing or unusable; their content is never quoted (see readCredentialJson). */
async function credentialProblems(doc: PoolDocument, poolDir: string): Promise<PoolProblem[]> {
  const checks = PROVIDER_TYPES.flatMap((type) => {
    const field = TYPE_FIELDS[type].credsField
    if (!field) return []
    return entries(doc, type)
      .filter(([raw]) => typeof raw[field] === 'string' && raw[field] !== '')
      .map(async ([raw, index]): Promise<PoolProblem | null> => {
        const given = raw[field] as string
        const file = isAbsolute(given) ? given : resolve(poolDir, given)
        const path = `${type}[${index}].${field}`
        try {
          if ((await readCredentialJson(file)) !== null) return null
          return {kind: 'credentials_file', path, problem: `${file} does not exist`, fixable: false}
        } catch (error) {
          return {kind: 'credentials_file', path, problem: errorMessage(error).replace(/\.$/, ''), fixable: false}
        }
      })
  })
  return (await Promise.all(checks)).filter((problem): problem is PoolProblem => problem !== null)
}

/**
 * Gives every entry without a uuid, and every entry whose uuid an earlier entry already has, a new uuid. Only the
 * uuid changes (in place, so the entry keeps its field order); the first entry with a uuid keeps it. Runs on the
 * document read under the lock, so what it re-keys is what the file holds now.
 */
export function fixUuids(doc: unknown, newUuid: () => string = randomUUID): UuidFix[] {
  if (!isDocument(doc)) return []
  const fixes: UuidFix[] = []
  for (const type of PROVIDER_TYPES) {
    for (const [raw, index] of entries(doc, type)) {
      if (hasUuid(raw)) continue
      const uuid = newUuid()
      raw.uuid = uuid
      fixes.push({path: `${type}[${index}].uuid`, kind: 'missing_uuid', was: null, uuid})
    }
  }
  for (const duplicate of duplicateUuids(doc)) {
    const raw = (doc[duplicate.type] as RawInstance[])[duplicate.index]!
    const uuid = newUuid()
    raw.uuid = uuid
    fixes.push({path: `${duplicate.path}.uuid`, kind: 'duplicate_uuid', was: duplicate.uuid, uuid})
  }
  return fixes
}

/** Applies fixUuids to the pool file under its lock and writes it atomically when anything changed. */
export async function repairUuids(store: PoolStore, newUuid?: () => string): Promise<UuidFix[]> {
  const fixes = await store.repair((doc) => {
    const done = fixUuids(doc, newUuid)
    return done.length > 0 ? done : false
  })
  return fixes === false ? [] : fixes
}

function isDocument(doc: unknown): doc is PoolDocument {
  return Boolean(doc) && typeof doc === 'object' && !Array.isArray(doc)
}

/** The object entries of one type's list with their positions (entries that are not objects are skipped). */
function entries(doc: PoolDocument, type: string): Array<[RawInstance, number]> {
  const list = doc[type]
  if (!Array.isArray(list)) return []
  return list.flatMap((raw: unknown, index): Array<[RawInstance, number]> =>
    raw && typeof raw === 'object' && !Array.isArray(raw) ? [[raw as RawInstance, index]] : [],
  )
}
