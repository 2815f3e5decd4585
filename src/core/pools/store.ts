import {dirname, resolve} from 'node:path'
import {AppError} from '../errors.js'
import {resolveWriteTarget, writeFileAtomic} from '../fs/atomic-write.js'
import {withFileLock, type LockOptions} from '../fs/file-lock.js'
import {describeFsError, MAX_POOL_FILE_BYTES, readRegularFile} from '../fs/read-file.js'
import {parseJsonFile} from './parse.js'
import {duplicateUuids, duplicateUuidWarning, instancesOf, validateDocument} from './schema.js'
import type {PoolDocument, PoolInstance} from './types.js'

export interface PoolSnapshot {
  doc: PoolDocument
  instances: PoolInstance[]
  /** False when the file does not exist yet; it is then read as an empty pool. */
  exists: boolean
  /** The exact text read, so callers can tell whether anything changed. */
  text: string | null
  /** Problems that do not stop the pool from being used but need fixing (duplicate uuids), one sentence each. */
  warnings: string[]
}

/** The parsed file before any check of its fields: what `pool doctor` examines and repairs. */
export interface RawSnapshot {
  doc: unknown
  exists: boolean
  text: string | null
}

export interface PoolStoreOptions {
  lock?: LockOptions
  /** Told each warning once per store (commands print them; `serve` reports them through PoolSync instead). */
  onWarning?: (message: string) => void
}

/**
 * Reads and writes provider_pools.json. Every write re-reads the file under a cross-process lock, applies the
 * caller's change to what is on disk now, validates, and replaces the file atomically — so edits made by other
 * processes in the meantime are kept, and a file that does not parse is never replaced. A symlinked pool file is
 * written through to its target, and the lock is the target's.
 */
export class PoolStore {
  readonly file: string
  readonly dir: string
  private readonly warned = new Set<string>()

  constructor(
    file: string,
    private readonly options: PoolStoreOptions = {},
  ) {
    this.file = resolve(file)
    this.dir = dirname(this.file)
  }

  async read(): Promise<PoolSnapshot> {
    return this.snapshotOf(await this.readRaw(this.file))
  }

  /** The file parsed but not validated; it still must be JSON. */
  readRaw(file = this.file): Promise<RawSnapshot> {
    return readPoolText(file).then((text) => {
      if (text === null) return {doc: {}, exists: false, text}
      if (text.trim() === '') return {doc: {}, exists: true, text}
      return {doc: parseJsonFile(text, this.file), exists: true, text}
    })
  }

  private snapshotOf(raw: RawSnapshot): PoolSnapshot {
    const {doc} = raw
    validateDocument(doc, this.file)
    const warnings = duplicateUuids(doc).map((duplicate) => duplicateUuidWarning(this.file, duplicate))
    for (const warning of warnings) {
      if (this.warned.has(warning)) continue
      this.warned.add(warning)
      this.options.onWarning?.(warning)
    }
    return {doc, instances: instancesOf(doc, this.dir), exists: raw.exists, text: raw.text, warnings}
  }

  /**
   * Applies `change` to the freshest document under the lock and writes the result (unless it returns `false`).
   * The snapshot's instances are built from that same document (their `raw` is the entry in `doc`), so a change
   * can act on exactly the entries it found there.
   */
  async update<T>(
    change: (doc: PoolDocument, snapshot: PoolSnapshot) => T | false,
  ): Promise<{result: T | false; snapshot: PoolSnapshot}> {
    return this.locked(async (target) => {
      const before = this.snapshotOf(await this.readRaw(target))
      const result = change(before.doc, before)
      if (result === false) return {result, snapshot: before}
      validateDocument(before.doc, this.file)
      const text = await this.write(target, before.doc)
      return {result, snapshot: this.snapshotOf({doc: before.doc, exists: true, text})}
    })
  }

  /**
   * For `pool doctor --fix`: like update, but on the parsed document before validation, so that a file with
   * problems the repair does not touch can still get the repairs it can.
   */
  async repair<T>(change: (doc: unknown) => T | false): Promise<T | false> {
    return this.locked(async (target) => {
      const {doc, exists} = await this.readRaw(target)
      if (!exists) return false
      const result = change(doc)
      if (result !== false) await this.write(target, doc)
      return result
    })
  }

  private async locked<T>(action: (target: string) => Promise<T>): Promise<T> {
    let target: string
    try {
      target = await resolveWriteTarget(this.file)
    } catch (error) {
      throw new AppError(`Cannot read ${this.file}: ${describeFsError(error)}.`, {code: 'unreadable_pool_file'})
    }
    return withFileLock(target, () => action(target), this.options.lock)
  }

  private async write(target: string, doc: unknown): Promise<string> {
    const text = `${JSON.stringify(doc, null, 2)}\n`
    try {
      await writeFileAtomic(target, text)
    } catch (error) {
      throw new AppError(`Cannot write ${this.file}: ${describeFsError(error)}.`, {code: 'unwritable_pool_file'})
    }
    return text
  }
}

/** The pool file's text, or null when there is none; only a regular file of sane size is read. */
async function readPoolText(file: string): Promise<string | null> {
  try {
    return await readRegularFile(file, MAX_POOL_FILE_BYTES)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new AppError(`Cannot read ${file}: ${describeFsError(error)}.`, {code: 'unreadable_pool_file'})
  }
}
