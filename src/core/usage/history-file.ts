import {stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {AppError} from '../errors.js'
import {resolveWriteTarget, writeFileAtomic} from '../fs/atomic-write.js'
import {withFileLock, type LockOptions} from '../fs/file-lock.js'
import {describeFsError, MAX_POOL_FILE_BYTES, readRegularFile} from '../fs/read-file.js'
import {daysBefore, historyText, parseHistory, RETENTION_DAYS, UsageDays} from './history.js'

/** The daily history beside a pool file: `provider_pools.json` → `provider_pools.usage.json`. */
export function historyFileOf(poolFile: string): string {
  return join(dirname(poolFile), `${basename(poolFile).replace(/\.json$/i, '')}.usage.json`)
}

/** The history the file holds; none when there is no file yet. A file that does not parse is an error naming it. */
export async function readHistory(file: string): Promise<UsageDays> {
  let text: string
  try {
    text = await readRegularFile(file, MAX_POOL_FILE_BYTES)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new UsageDays()
    throw new AppError(`Cannot read ${file}: ${describeFsError(error)}.`, {code: 'unreadable_usage_file'})
  }
  return parseHistory(text, file)
}

/** What identifies one version of the file: an atomic replace always brings a new inode and times. */
interface Version {
  ino: number
  size: number
  mtimeMs: number
  ctimeMs: number
}

/**
 * Adds counts to the history file: under the pool file's lock, so that two processes never lose each other's counts,
 * to what the file holds at that moment, replacing it atomically (mode 0600). Days past the retention go. A file that
 * does not parse is left as it is and the write fails.
 *
 * The history as last written is kept, and the file is read again only when someone else has replaced it since: a
 * long history is parsed once, not at every write.
 */
export class HistoryWriter {
  private known: {history: UsageDays; version: Version} | null = null

  constructor(
    readonly file: string,
    /** The pool file, whose cross-process lock every writer of the pool and its history takes. */
    private readonly poolFile: string,
    private readonly lock?: LockOptions,
  ) {}

  async add(pending: UsageDays, now: number): Promise<void> {
    const owner = await resolveWriteTarget(this.poolFile)
    await withFileLock(owner, () => this.addLocked(pending, now), this.lock)
  }

  private async addLocked(pending: UsageDays, now: number): Promise<void> {
    const history = await this.current()
    // Merged into the kept copy: until the write is done, the copy is not what the file holds.
    this.known = null
    history.merge(pending)
    history.prune(daysBefore(now, RETENTION_DAYS - 1))
    try {
      await writeFileAtomic(this.file, historyText(history))
    } catch (error) {
      throw new AppError(`Cannot write ${this.file}: ${describeFsError(error)}.`, {code: 'unwritable_usage_file'})
    }
    const version = await versionOf(this.file)
    if (version) this.known = {history, version}
  }

  private async current(): Promise<UsageDays> {
    const version = await versionOf(this.file)
    if (this.known && version && sameVersion(this.known.version, version)) return this.known.history
    return readHistory(this.file)
  }
}

async function versionOf(file: string): Promise<Version | null> {
  const info = await stat(file).catch(() => null)
  return info && {ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs}
}

function sameVersion(a: Version, b: Version): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs
}
