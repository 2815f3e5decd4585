import {readFile, stat} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {AppError} from '../errors.js'
import {writeFileAtomic} from '../fs/atomic-write.js'
import {describeFsError} from '../pools/store.js'
import type {OAuthProvider} from './errors.js'

export type CredentialJson = Record<string, unknown>

/** Where each vendor's own tool keeps its login, which is where ours goes unless `--output` says otherwise. */
export function defaultCredentialPath(provider: OAuthProvider, home = homedir()): string {
  switch (provider) {
    case 'qwen':
      return join(home, '.qwen', 'oauth_creds.json')
    case 'gemini':
      return join(home, '.gemini', 'oauth_creds.json')
    case 'kiro':
      return join(home, '.aws', 'sso', 'cache', 'kiro-auth-token.json')
  }
}

/**
 * The lock that serialises refreshes of one credential file across processes. qwen-code locks
 * `~/.qwen/oauth_creds.json` through `~/.qwen/oauth_creds.lock`; the same rule for every file keeps aiclient and
 * the vendor CLIs from refreshing one account at once. Returned without `.lock`, as `withFileLock` appends it.
 */
export function lockBase(file: string): string {
  return file.replace(/\.json$/i, '')
}

/** The parsed file, or null when it does not exist. A file that cannot be read or is not a JSON object throws. */
export async function readCredentialJson(file: string): Promise<CredentialJson | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new AppError(`Cannot read ${file}: ${describeFsError(error)}.`, {code: 'bad_credentials_file'})
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AppError(`${file} is not valid JSON.`, {code: 'bad_credentials_file'})
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError(`${file} does not hold a JSON object.`, {code: 'bad_credentials_file'})
  }
  return parsed as CredentialJson
}

/** 2-space JSON, mode 0600, atomically replaced, in a directory created 0700: the shape the vendor tools write. */
export async function writeCredentialJson(file: string, content: CredentialJson): Promise<void> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(content, null, 2)}\n`, 0o600)
  } catch (error) {
    throw new AppError(`Cannot write ${file}: ${describeFsError(error)}.`, {code: 'unwritable_credentials_file'})
  }
}

export async function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}

/**
 * A fresh login replaces every field the provider's format defines (stale ones from an earlier account included)
 * and keeps the fields it does not, which belong to other tools.
 */
export function mergeLogin(existing: CredentialJson | null, fresh: CredentialJson, ownFields: readonly string[]): CredentialJson {
  const kept = Object.fromEntries(Object.entries(existing ?? {}).filter(([key]) => !ownFields.includes(key)))
  return {...kept, ...fresh}
}

export function stringField(content: CredentialJson, key: string): string | undefined {
  const value = content[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}
