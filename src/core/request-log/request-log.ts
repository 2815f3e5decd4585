import {dirname, resolve} from 'node:path'
import {UsageError, errorMessage} from '../errors.js'
import type {RequestRecord} from '../proxy/types.js'
import {BODY_LOG_LIMIT, type Exchange} from './capture.js'
import {requestLogLine} from './line.js'
import {RotatingFile} from './rotating-file.js'

/** `serve --log-file`, `--log-max-size`, `--log-bodies`. */
export interface RequestLogOptions {
  file: string
  maxBytes: number
  /** Log what the client sent and received too. */
  bodies: boolean
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
/** Rotated files kept beside the current one: FILE.1 … FILE.5. */
export const ROTATED_LOG_FILES = 5

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
}

/** `512KB`, `10MB`, `1.5GB`, `4096` (bytes); K, M and G are powers of 1024. */
export function parseSize(text: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match && UNITS[match[2]!.toLowerCase()]
  const bytes = unit ? Math.floor(Number(match[1]) * unit) : NaN
  if (!(bytes >= 1))
    throw new UsageError(`${name} must be a size such as 512KB or 10MB, not ${JSON.stringify(text)}.`, {
      code: 'bad_flag',
    })
  return bytes
}

/**
 * The request log the flags ask for, if any. Logging bodies adds a warning: they hold prompts and answers, which
 * the log keeps on disk.
 */
export function requestLogOf(
  flags: {logFile?: string; logMaxSize?: string; logBodies?: boolean},
  warnings: string[],
): RequestLogOptions | undefined {
  if (flags.logFile === undefined) return undefined
  const file = resolve(flags.logFile)
  const maxBytes =
    flags.logMaxSize === undefined ? DEFAULT_LOG_MAX_BYTES : parseSize(flags.logMaxSize, '--log-max-size')
  const bodies = flags.logBodies === true
  if (bodies)
    warnings.push(
      `--log-bodies: request and response bodies (the first ${BODY_LOG_LIMIT / 1024} KiB of each) are written to ${file}, with keys and secret-named fields masked. They hold prompts and answers; turn it off when done.`,
    )
  return {file, maxBytes, bodies}
}

export interface RequestLog {
  write(record: RequestRecord, exchange?: Exchange): void
  /** Writes what is queued and closes the file. */
  close(): Promise<void>
}

/** Opens the log file, with a message for the user when it cannot be written; later failures go to `onWarning`. */
export async function openRequestLog(
  options: RequestLogOptions,
  onWarning?: (message: string) => void,
): Promise<RequestLog> {
  let file: RotatingFile
  try {
    file = await RotatingFile.open(options.file, {maxBytes: options.maxBytes, keep: ROTATED_LOG_FILES}, (error) =>
      onWarning?.(`cannot write the request log ${options.file}: ${errorMessage(error)}`),
    )
  } catch (error) {
    throw new UsageError(openProblem(options.file, error), {code: 'bad_flag'})
  }
  return {
    write: (record, exchange) => file.write(requestLogLine(record, exchange)),
    close: () => file.close(),
  }
}

function openProblem(file: string, error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return `--log-file ${file}: the directory ${dirname(file)} does not exist.`
    case 'EISDIR':
      return `--log-file ${file} is a directory; name a file in it.`
    case 'EACCES':
    case 'EPERM':
      return `--log-file ${file} cannot be written: permission denied.`
    default:
      return `--log-file ${file} cannot be opened: ${errorMessage(error)}`
  }
}
