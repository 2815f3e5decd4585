import {resolve} from 'node:path'
import {AppError} from '../errors.js'
import {describeFsError, MAX_CONFIG_FILE_BYTES, readRegularFile} from '../fs/read-file.js'
import {parseJsonFile} from '../pools/parse.js'

/** The AIClient-2-API `config.json` keys aiclient understands; other keys are ignored. */
export interface ConfigJson {
  PROVIDER_POOLS_FILE_PATH?: string
  MODEL_PROVIDER?: string
  REQUIRED_API_KEY?: string
  SERVER_PORT?: number
  HOST?: string
  [key: string]: unknown
}

export interface LoadedConfigJson {
  file: string | null
  /** Named by the user with --config, rather than found in the working directory. */
  chosen: boolean
  values: ConfigJson
}

/** A string setting; an empty one counts as unset. */
export function configString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * Reads `--config FILE` (which must exist) or `./config.json` (which may not). Relative paths inside it are
 * relative to the file's directory, so the values are returned with that directory.
 */
export async function loadConfigJson(explicit: string | undefined, cwd = process.cwd()): Promise<LoadedConfigJson> {
  const file = resolve(cwd, explicit ?? 'config.json')
  let text: string
  try {
    text = await readRegularFile(file, MAX_CONFIG_FILE_BYTES)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && explicit === undefined)
      return {file: null, chosen: false, values: {}}
    throw new AppError(`Cannot read the config file ${file}: ${describeFsError(error)}.`, {code: 'bad_config'})
  }
  const values = parseJsonFile(text, file)
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    throw new AppError(`${file}: the top level must be a JSON object.`, {code: 'bad_config'})
  }
  return {file, chosen: explicit !== undefined, values: values as ConfigJson}
}
