import {constants, type Stats} from 'node:fs'
import {open} from 'node:fs/promises'

/** Limits for files a person points aiclient at: far above any real one, far below what could hurt the process. */
export const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024
export const MAX_POOL_FILE_BYTES = 64 * 1024 * 1024

/** A path that exists but is no file aiclient will read or replace: its `message` is the reason, for describeFsError. */
export class UnusableFileError extends Error {
  constructor(
    readonly code: 'ENOTREG' | 'EFBIG',
    reason: string,
  ) {
    super(reason)
    this.name = 'UnusableFileError'
  }
}

export function notRegularFile(info: Stats): UnusableFileError {
  return new UnusableFileError('ENOTREG', `it is ${kindOf(info)}, not a regular file`)
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory'
  if (info.isFIFO()) return 'a FIFO (named pipe)'
  if (info.isCharacterDevice()) return 'a character device'
  if (info.isBlockDevice()) return 'a block device'
  if (info.isSocket()) return 'a socket'
  return 'a special file'
}

function tooLarge(maxBytes: number): UnusableFileError {
  return new UnusableFileError('EFBIG', `it is larger than ${formatBytes(maxBytes)}, too large to be this kind of file`)
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes} bytes`
}

const CHUNK_BYTES = 64 * 1024

/**
 * Reads a regular file of at most `maxBytes` as UTF-8. Anything else fails at once with an UnusableFileError:
 * a FIFO would block the read until some writer comes (for ever), and /dev/zero or a huge file would fill memory.
 * The kind is checked on the opened handle, so the path cannot be swapped between the check and the read.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<string> {
  // O_NONBLOCK lets open() return for a FIFO without a writer instead of waiting; for regular files it changes nothing.
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0))
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw notRegularFile(info)
    if (info.size > maxBytes) throw tooLarge(maxBytes)
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
      const {bytesRead} = await handle.read(chunk, 0, CHUNK_BYTES, null)
      if (bytesRead === 0) break
      total += bytesRead
      // The file may grow after the size check (procfs files even report size 0).
      if (total > maxBytes) throw tooLarge(maxBytes)
      chunks.push(chunk.subarray(0, bytesRead))
    }
    return Buffer.concat(chunks, total).toString('utf8')
  } finally {
    await handle.close()
  }
}

/** A filesystem failure as the end of a sentence: "Cannot read FILE: <this>." */
export function describeFsError(error: unknown): string {
  if (error instanceof UnusableFileError) return error.message
  const err = error as NodeJS.ErrnoException
  switch (err.code) {
    case 'ENOENT':
      return 'it does not exist'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a directory'
    case 'ENOTDIR':
      return 'a part of the path is not a directory'
    case 'ENXIO':
      return 'it is a socket or a device, not a regular file'
    case 'ELOOP':
      return 'too many levels of symbolic links'
    case 'ENOSPC':
      return 'no space left on the device'
    case 'EROFS':
      return 'the filesystem is read-only'
    default:
      return err.code ?? err.message
  }
}
