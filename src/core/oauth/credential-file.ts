import {stat} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {AppError} from '../errors.js'
import {assertReplaceable, resolveWriteTarget, writeFileAtomic} from '../fs/atomic-write.js'
import {withFileLock, type LockOptions} from '../fs/file-lock.js'
import {describeFsError, MAX_CREDENTIAL_FILE_BYTES, readRegularFile} from '../fs/read-file.js'
import {parseJson} from '../pools/parse.js'
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

/**
 * Runs `action` holding the refresh lock of a credential file. The lock belongs to the file the path finally names:
 * through a symlink (say ~/.qwen/oauth_creds.json linked to a file kept elsewhere) every path to one account shares
 * one lock. `action` is given that target, to read and write.
 */
export async function withCredentialLock<T>(
  file: string,
  action: (target: string) => Promise<T>,
  options?: LockOptions,
): Promise<T> {
  const target = await resolveWriteTarget(file)
  return withFileLock(lockBase(target), () => action(target), options)
}

/**
 * The parsed file, or null when it does not exist. A file that cannot be read, is not a regular file of sane size,
 * or is not a JSON object throws. The errors never quote the content: a path given as a credential file may name
 * any file at all (`--creds-file /etc/shadow`), and a real one is full of tokens.
 */
export async function readCredentialJson(file: string): Promise<CredentialJson | null> {
  let text: string
  try {
    text = await readRegularFile(file, MAX_CREDENTIAL_FILE_BYTES)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new AppError(`${file} cannot be read: ${describeFsError(error)}.`, {code: 'bad_credentials_file'})
  }
  const parsed = parseJson(text)
  if (!parsed.ok) {
    const {line, column, reason} = parsed.error
    throw new AppError(
      `${file} is not valid JSON: at line ${line}, column ${column}, ${reason} (the content is not shown).`,
      {
        code: 'bad_credentials_file',
      },
    )
  }
  const value = parsed.value
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError(`${file} does not hold a JSON object.`, {code: 'bad_credentials_file'})
  }
  return value as CredentialJson
}

/** 2-space JSON, mode 0600, atomically replaced, in a directory created 0700: the shape the vendor tools write. */
export async function writeCredentialJson(file: string, content: CredentialJson): Promise<void> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(content, null, 2)}\n`, 0o600)
  } catch (error) {
    throw new AppError(`Cannot write ${file}: ${describeFsError(error)}.`, {code: 'unwritable_credentials_file'})
  }
}

/** Fails at once when `file` (through any symlink) is no place for a credential file: a directory, a FIFO, a device. */
export async function checkCredentialTarget(file: string): Promise<void> {
  try {
    await assertReplaceable(await resolveWriteTarget(file))
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
export function mergeLogin(
  existing: CredentialJson | null,
  fresh: CredentialJson,
  ownFields: readonly string[],
): CredentialJson {
  const kept = Object.fromEntries(Object.entries(existing ?? {}).filter(([key]) => !ownFields.includes(key)))
  return {...kept, ...fresh}
}

export function stringField(content: CredentialJson, key: string): string | undefined {
  const value = content[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}
