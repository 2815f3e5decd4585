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

export interface HistoryWrite {
  file: string
  /** The pool file, whose cross-process lock every writer of the pool and its history takes. */
  poolFile: string
  now: number
  lock?: LockOptions
}

/**
 * Adds `pending` to what the file holds now and replaces it atomically (mode 0600), under the pool file's lock so
 * that two processes never lose each other's counts. Days past the retention go; a file that does not parse is
 * left as it is and the write fails.
 */
export async function addToHistory(pending: UsageDays, {file, poolFile, now, lock}: HistoryWrite): Promise<void> {
  const owner = await resolveWriteTarget(poolFile)
  await withFileLock(
    owner,
    async () => {
      const history = await readHistory(file)
      history.merge(pending)
      history.prune(daysBefore(now, RETENTION_DAYS - 1))
      try {
        await writeFileAtomic(file, historyText(history))
      } catch (error) {
        throw new AppError(`Cannot write ${file}: ${describeFsError(error)}.`, {code: 'unwritable_usage_file'})
      }
    },
    lock,
  )
}
