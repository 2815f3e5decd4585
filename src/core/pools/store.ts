import {readFile} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {AppError} from '../errors.js'
import {writeFileAtomic} from '../fs/atomic-write.js'
import {withFileLock, type LockOptions} from '../fs/file-lock.js'
import {parseJsonFile} from './parse.js'
import {instancesOf, validateDocument} from './schema.js'
import type {PoolDocument, PoolInstance} from './types.js'

export interface PoolSnapshot {
  doc: PoolDocument
  instances: PoolInstance[]
  /** False when the file does not exist yet; it is then read as an empty pool. */
  exists: boolean
  /** The exact text read, so callers can tell whether anything changed. */
  text: string | null
}

/**
 * Reads and writes provider_pools.json. Every write re-reads the file under a cross-process lock, applies the
 * caller's change to what is on disk now, validates, and replaces the file atomically — so edits made by other
 * processes in the meantime are kept, and a file that does not parse is never replaced.
 */
export class PoolStore {
  readonly file: string
  readonly dir: string

  constructor(
    file: string,
    private readonly lockOptions: LockOptions = {},
  ) {
    this.file = resolve(file)
    this.dir = dirname(this.file)
  }

  async read(): Promise<PoolSnapshot> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return {doc: {}, instances: [], exists: false, text: null}
      throw new AppError(`Cannot read ${this.file}: ${describeFsError(error)}.`, {code: 'unreadable_pool_file'})
    }
    if (text.trim() === '') return {doc: {}, instances: [], exists: true, text}
    const doc = parseJsonFile(text, this.file)
    validateDocument(doc, this.file)
    return {doc, instances: instancesOf(doc, this.dir), exists: true, text}
  }

  /** Applies `change` to the freshest document under the lock and writes the result (unless it returns `false`). */
  async update<T>(change: (doc: PoolDocument, snapshot: PoolSnapshot) => T | false): Promise<{result: T | false; snapshot: PoolSnapshot}> {
    return withFileLock(
      this.file,
      async () => {
        const before = await this.read()
        const result = change(before.doc, before)
        if (result === false) return {result, snapshot: before}
        validateDocument(before.doc, this.file)
        const text = `${JSON.stringify(before.doc, null, 2)}\n`
        try {
          await writeFileAtomic(this.file, text)
        } catch (error) {
          throw new AppError(`Cannot write ${this.file}: ${describeFsError(error)}.`, {code: 'unwritable_pool_file'})
        }
        return {result, snapshot: {doc: before.doc, instances: instancesOf(before.doc, this.dir), exists: true, text}}
      },
      this.lockOptions,
    )
  }
}

export function describeFsError(error: unknown): string {
  const err = error as NodeJS.ErrnoException
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a directory'
    case 'ENOTDIR':
      return 'a part of the path is not a directory'
    case 'ENOSPC':
      return 'no space left on the device'
    case 'EROFS':
      return 'the filesystem is read-only'
    default:
      return err.code ?? err.message
  }
}
