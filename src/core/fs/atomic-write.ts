import {randomBytes} from 'node:crypto'
import {lstat, mkdir, open, readlink, rename, unlink} from 'node:fs/promises'
import {dirname, basename, join, resolve} from 'node:path'
import {notRegularFile} from './read-file.js'

/** Creates the directory (0700 when it has to be made) that will hold a private file. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, {recursive: true, mode: 0o700})
}

const MAX_SYMLINK_HOPS = 40

/**
 * The file that writing `file` must replace: symbolic links followed to their final target, including a target
 * that does not exist yet. Replacing the link itself would cut it, and the program that owns the target (a vendor
 * CLI's own credential file, a pool file kept elsewhere) would stop seeing updates.
 */
export async function resolveWriteTarget(file: string): Promise<string> {
  let current = resolve(file)
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    let link: string
    try {
      link = await readlink(current)
    } catch (error) {
      // EINVAL: not a link; ENOENT: nothing there yet. Either way this is the path to write.
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EINVAL' || code === 'ENOENT') return current
      throw error
    }
    current = resolve(dirname(current), link)
  }
  throw Object.assign(new Error(`${file}: too many levels of symbolic links`), {code: 'ELOOP'})
}

/** Refuses a target that exists and is not a regular file: a rename would replace a directory, a FIFO or /dev/null. */
export async function assertReplaceable(target: string): Promise<void> {
  const info = await lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (info && !info.isFile()) throw notRegularFile(info)
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one, and so that a crash
 * right after the call keeps the new content: temp file in the same directory, fsync, rename, fsync the directory.
 * A symlink is written through: the temp file goes beside the link's target and replaces the target.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  const target = await resolveWriteTarget(file)
  await assertReplaceable(target)
  const dir = dirname(target)
  await ensurePrivateDir(dir)
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', mode)
  try {
    await handle.writeFile(content)
    // umask may have narrowed or an existing policy widened the mode; the caller's mode is the contract.
    await handle.chmod(mode)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(temp).catch(() => {})
    throw error
  }
  await handle.close()
  try {
    await rename(temp, target)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
  await syncDir(dir)
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined)
  if (!handle) return
  try {
    await handle.sync()
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself already happened.
  } finally {
    await handle.close()
  }
}
