import {randomUUID} from 'node:crypto'
import {resolve} from 'node:path'
import {TYPE_FIELDS} from '../pools/fields.js'
import {newInstanceFields} from '../pools/operations.js'
import type {PoolStore} from '../pools/store.js'
import type {ProviderType, RawInstance} from '../pools/types.js'
import {mergeLogin, readCredentialJson, withCredentialLock, writeCredentialJson} from './credential-file.js'
import type {OAuthProvider} from './errors.js'
import type {LoginResult} from './flow.js'
import {GEMINI_FIELDS} from './gemini.js'
import {KIRO_FIELDS} from './kiro.js'
import {QWEN_FIELDS} from './qwen.js'

export const POOL_TYPE: Record<OAuthProvider, ProviderType> = {
  qwen: 'openai-qwen-oauth',
  gemini: 'gemini-cli-oauth',
  kiro: 'claude-kiro-oauth',
}

const OWN_FIELDS: Record<OAuthProvider, readonly string[]> = {
  qwen: QWEN_FIELDS,
  gemini: GEMINI_FIELDS,
  kiro: KIRO_FIELDS,
}

/**
 * Writes a login's credentials over `file` (through a symlink, into its target), keeping fields of other tools that
 * an earlier file held. Under the file's refresh lock, so a `serve` refreshing the old login cannot write over it.
 */
export async function saveLogin(file: string, login: LoginResult): Promise<void> {
  await withCredentialLock(file, async (target) => {
    // An unreadable old file has nothing worth keeping; the user already agreed to replace it.
    const existing = await readCredentialJson(target).catch(() => null)
    await writeCredentialJson(target, mergeLogin(existing, login.credentials, OWN_FIELDS[login.provider]))
  })
}

export interface PoolLogin {
  provider: OAuthProvider
  credsFile: string
  account: string | null
  projectId?: string | null
}

/**
 * Puts a login into the pool: the instance of the provider's type whose credential file is this one is made
 * healthy again (a new login is what "re-login needed" asked for) and gets the project; otherwise a new instance
 * is appended, named after the account when no other instance of the type has that name.
 */
export async function addLoginToPool(
  store: PoolStore,
  login: PoolLogin,
  newUuid: () => string = randomUUID,
): Promise<{uuid: string; created: boolean}> {
  const type = POOL_TYPE[login.provider]
  const credsField = TYPE_FIELDS[type].credsField!
  const credsFile = resolve(login.credsFile)
  const {result} = await store.update((doc, snapshot) => {
    if (!Array.isArray(doc[type])) doc[type] = []
    const list = doc[type] as RawInstance[]
    const match = snapshot.instances.find((i) => i.type === type && i.credsFile === credsFile)
    if (match) {
      const raw = match.raw
      raw.isHealthy = true
      if ('lastErrorReason' in raw) raw.lastErrorReason = null
      if (login.projectId) raw.PROJECT_ID = login.projectId
      return {uuid: match.uuid, created: false}
    }
    const raw: RawInstance = {[credsField]: credsFile}
    if (login.projectId) raw.PROJECT_ID = login.projectId
    if (login.account && !list.some((r) => r.customName === login.account)) raw.customName = login.account
    const uuid = newUuid()
    Object.assign(raw, newInstanceFields(uuid))
    list.push(raw)
    return {uuid, created: true}
  })
  return result as {uuid: string; created: boolean}
}
