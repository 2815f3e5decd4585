import {configString, type LoadedConfigJson} from '../config/config-file.js'
import type {Settings} from '../config/settings.js'
import {UsageError} from '../errors.js'
import {isLoopbackName, parseOriginList} from './access.js'
import type {ServeFlags} from './options.js'

export interface Exposure {
  host: string
  apiKey: string | undefined
  corsOrigins: string[]
  warnings: string[]
}

/**
 * Who may reach the server: the address, the key and the web origins. Whatever widens that must come from the
 * user: a flag, the environment, the user settings, or a config.json named with --config. A config.json that was
 * merely found in the working directory (a cloned repository has one) may narrow access but never widen it; what
 * it tries is ignored with a warning.
 */
export function exposure(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv,
  configJson: LoadedConfigJson,
  settings: Settings,
): Exposure {
  const config = configJson.values
  const warnings: string[] = []
  /** Whether a widening value comes from a file the user did not name; if so, says so. */
  const fromFoundFile = (key: string, value: string, how: string): boolean => {
    if (configJson.chosen || configJson.file === null) return false
    warnings.push(
      `${configJson.file} sets ${key} to ${value}, which would open the pool to more clients. Ignored: that file was found in the working directory, not named by you. To allow it, ${how}, or name the file with --config ${configJson.file}.`,
    )
    return true
  }

  const configHost = configString(config.HOST)
  const hostIgnored =
    flags.host === undefined &&
    configHost !== undefined &&
    !isLoopbackName(configHost) &&
    fromFoundFile('HOST', configHost, `pass --host ${configHost} or run \`aiclient config set host ${configHost}\``)
  const host = flags.host ?? (hostIgnored ? undefined : configHost) ?? settings.host ?? '127.0.0.1'

  // An empty key (`--api-key "$UNSET"`) would match an empty `?key=` and switch off the Host check: refuse it.
  if (flags.apiKey === '')
    throw new UsageError('--api-key is empty. Give the key clients must send, or leave the flag out.', {
      code: 'needs_api_key',
    })
  const userKey = flags.apiKey ?? (env.AICLIENT_API_KEY || undefined)
  const configKey = configString(config.REQUIRED_API_KEY)
  const apiKey = userKey ?? configKey ?? settings.apiKey
  // Such a key still guards a loopback server; it just cannot be what makes a wider one safe.
  const keyFromFoundFile = userKey === undefined && configKey !== undefined && !configJson.chosen
  if (!isLoopbackName(host) && (!apiKey || keyFromFoundFile)) {
    const why = apiKey
      ? `with the API key from ${configJson.file}: a config.json found in the working directory cannot open the pool to the network`
      : 'without an API key: anyone who can reach it could spend your accounts'
    throw new UsageError(`Refusing to listen on ${host} ${why}.`, {
      code: 'needs_api_key',
      suggestions: [
        'Set a key with --api-key, AICLIENT_API_KEY, `aiclient config set apiKey`, or REQUIRED_API_KEY in a config.json named with --config; or listen on 127.0.0.1.',
      ],
    })
  }

  let corsOrigins: string[]
  if (flags.corsOrigins !== undefined && flags.corsOrigins.length > 0)
    corsOrigins = parseOriginList(flags.corsOrigins, '--cors-origin')
  else if (env.AICLIENT_CORS_ORIGINS)
    corsOrigins = parseOriginList([env.AICLIENT_CORS_ORIGINS], 'AICLIENT_CORS_ORIGINS')
  else {
    const configOrigins = originsOf(config.CORS_ORIGINS, `${configJson.file}: CORS_ORIGINS`)
    const list = configOrigins.join(',')
    const ignored =
      configOrigins.length > 0 &&
      fromFoundFile(
        'CORS_ORIGINS',
        list,
        `pass --cors-origin ${list} or run \`aiclient config set corsOrigins ${list}\``,
      )
    corsOrigins =
      configOrigins.length > 0 && !ignored
        ? configOrigins
        : parseOriginList(settings.corsOrigins ? [settings.corsOrigins] : [], 'the corsOrigins setting')
  }
  return {host, apiKey, corsOrigins, warnings}
}

/** CORS_ORIGINS in config.json: a list, or one string with commas. */
function originsOf(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return parseOriginList([value], where)
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) return parseOriginList(value, where)
  throw new UsageError(`${where} must be a list of origins, e.g. ["http://localhost:5173"].`, {code: 'bad_config'})
}
