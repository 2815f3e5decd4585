import {randomBytes} from 'node:crypto'
import {mkdir, open, rename, unlink} from 'node:fs/promises'
import {dirname, basename, join} from 'node:path'

/** Creates the directory (0700 when it has to be made) that will hold a private file. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, {recursive: true, mode: 0o700})
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one, and so that a crash
 * right after the call keeps the new content: temp file in the same directory, fsync, rename, fsync the directory.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(file)
  await ensurePrivateDir(dir)
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
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
    await rename(temp, file)
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
