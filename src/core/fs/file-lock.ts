import {open, readFile, stat, unlink} from 'node:fs/promises'
import {AppError} from '../errors.js'
import {ensurePrivateDir} from './atomic-write.js'
import {dirname} from 'node:path'

export interface LockOptions {
  /** How long to keep trying before giving up. */
  timeoutMs?: number
  /** A lock file older than this is taken to be left by a crashed process. */
  staleMs?: number
  sleep?: (ms: number) => Promise<void>
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Cross-process mutual exclusion through an `O_EXCL` lock file beside the protected file (`<file>.lock`, the
 * convention qwen-code also uses). The lock file holds the owner's pid so a dead owner's lock can be broken
 * at once instead of after the stale timeout.
 */
export async function withFileLock<T>(file: string, action: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await acquireFileLock(file, options)
  try {
    return await action()
  } finally {
    await release()
  }
}

export async function acquireFileLock(file: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const lockPath = `${file}.lock`
  const timeoutMs = options.timeoutMs ?? 15_000
  const staleMs = options.staleMs ?? 10_000
  const sleep = options.sleep ?? defaultSleep
  const deadline = Date.now() + timeoutMs
  const token = `${process.pid}:${Date.now()}:${Math.random()}`
  await ensurePrivateDir(dirname(lockPath))
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600)
      await handle.writeFile(token)
      await handle.close()
      return async () => {
        // Only remove the lock if it is still ours: a stale-lock breaker may have replaced it.
        const current = await readFile(lockPath, 'utf8').catch(() => undefined)
        if (current === token) await unlink(lockPath).catch(() => {})
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (await breakIfStale(lockPath, staleMs)) continue
    if (Date.now() >= deadline) {
      throw new AppError(`Timed out waiting for the lock on ${file} (held through ${lockPath}).`, {
        suggestions: [`If no other aiclient process is running, delete ${lockPath}.`],
        code: 'lock_timeout',
      })
    }
    await sleep(Math.min(5 + attempt * 5, 50) + Math.random() * 10)
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const [content, info] = await Promise.all([
    readFile(lockPath, 'utf8').catch(() => undefined),
    stat(lockPath).catch(() => undefined),
  ])
  if (content === undefined || !info) return true
  const pid = Number(content.split(':')[0])
  const ownerDead = Number.isInteger(pid) && pid > 0 && !isAlive(pid)
  if (!ownerDead && Date.now() - info.mtimeMs < staleMs) return false
  // Re-check the content before unlinking so we do not delete a lock another breaker has just taken.
  const again = await readFile(lockPath, 'utf8').catch(() => undefined)
  if (again !== content) return true
  await unlink(lockPath).catch(() => {})
  return true
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
