import Conf from 'conf'
import {UsageError} from '../errors.js'
import {modelAliasesProblems, type ModelAliases} from '../models/aliases.js'
import {PROVIDER_TYPES} from '../pools/types.js'
import {nearest} from '../text.js'
import {parseOriginList} from '../server/access.js'

/** User settings, the lowest layer of configuration above the built-in defaults. */
export interface Settings {
  poolsFile?: string
  host?: string
  port?: number
  modelProvider?: string
  apiKey?: string
  /** Comma-separated origins whose web pages may call `serve`. */
  corsOrigins?: string
  /** MODEL_ALIASES for when config.json has none. */
  modelAliases?: ModelAliases
}

interface SettingSpec {
  description: string
  parse: (value: string) => string | number | object
  secret?: boolean
}

export const SETTING_SPECS: Record<keyof Settings, SettingSpec> = {
  poolsFile: {description: 'provider_pools.json used when no flag, env var or config.json names one', parse: (v) => v},
  host: {description: 'address `serve` listens on', parse: (v) => v},
  port: {
    description: 'port `serve` listens on',
    parse: (v) => {
      const port = Number(v)
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new UsageError(`port must be a whole number from 0 to 65535, not "${v}".`)
      return port
    },
  },
  modelProvider: {
    description: 'default provider type for requests that do not choose one',
    parse: (v) => {
      if (!(PROVIDER_TYPES as readonly string[]).includes(v))
        throw new UsageError(`Unknown provider type "${v}". Valid types: ${PROVIDER_TYPES.join(', ')}.`)
      return v
    },
  },
  apiKey: {description: 'API key clients must send to `serve`', parse: (v) => v, secret: true},
  corsOrigins: {
    description: 'origins (comma-separated) whose web pages may call `serve`, e.g. http://localhost:5173',
    parse: (v) => parseOriginList([v], 'corsOrigins').join(','),
  },
  modelAliases: {
    description: 'model names sent upstream instead of others, by provider type (JSON, as config.json MODEL_ALIASES)',
    parse: (v) => parseModelAliases(v, 'modelAliases'),
  },
}

/** A JSON setting of model aliases, checked as MODEL_ALIASES is (see checkModelAliases). */
function parseModelAliases(text: string, name: string): ModelAliases {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${name} must be JSON: ${(error as Error).message}.`, {
      suggestions: [`Example: '{"claude-kiro-oauth": {"claude-opus-5-*": "claude-opus-4-8"}}'`],
    })
  }
  return checkModelAliases(value, name)
}

/** A MODEL_ALIASES value, or a UsageError naming the JSON path of its first problem. */
export function checkModelAliases(value: unknown, name: string, code?: string): ModelAliases {
  const [first] = modelAliasesProblems(value)
  if (first) throw new UsageError(`${name}${first.at} ${first.problem}.`, code ? {code} : {})
  return value as ModelAliases
}

/** A stored value as one line of text: JSON settings as compact JSON. */
export function settingText(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
}

export const SETTING_KEYS = Object.keys(SETTING_SPECS) as (keyof Settings)[]

export function parseSettingKey(key: string): keyof Settings {
  if ((SETTING_KEYS as string[]).includes(key)) return key as keyof Settings
  const guess = nearest(key, SETTING_KEYS)
  throw new UsageError(`Unknown setting "${key}".${guess ? ` Did you mean "${guess}"?` : ''}`, {
    suggestions: [`Settings: ${SETTING_KEYS.join(', ')}.`],
  })
}

export class SettingsStore {
  private readonly conf: Conf<Settings>

  constructor(configDir: string) {
    // conf writes atomically; 0600 because the API key may live here.
    this.conf = new Conf<Settings>({
      projectName: 'aiclient',
      cwd: configDir,
      configName: 'settings',
      configFileMode: 0o600,
    })
  }

  get path(): string {
    return this.conf.path
  }

  all(): Settings {
    return {...this.conf.store}
  }

  get<K extends keyof Settings>(key: K): Settings[K] {
    return this.conf.get(key)
  }

  set(key: keyof Settings, raw: string): void {
    this.conf.set(key, SETTING_SPECS[key].parse(raw))
  }

  delete(key: keyof Settings): void {
    this.conf.delete(key)
  }
}
