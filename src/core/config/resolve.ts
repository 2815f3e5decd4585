import {dirname, resolve} from 'node:path'
import type {LoadedConfigJson} from './config-file.js'
import type {Settings} from './settings.js'

export type Source = 'flag' | 'env' | 'config.json' | 'settings' | 'default'

export interface Resolved<T> {
  value: T
  source: Source
}

export interface Layers {
  env: NodeJS.ProcessEnv
  configJson: LoadedConfigJson
  settings: Settings
  cwd: string
}

/** flag → AICLIENT_POOLS_FILE → config.json PROVIDER_POOLS_FILE_PATH → user setting → ./provider_pools.json */
export function resolvePoolsFile(flag: string | undefined, layers: Layers): Resolved<string> {
  if (flag) return {value: resolve(layers.cwd, flag), source: 'flag'}
  const env = layers.env.AICLIENT_POOLS_FILE
  if (env) return {value: resolve(layers.cwd, env), source: 'env'}
  const fromConfig = layers.configJson.values.PROVIDER_POOLS_FILE_PATH
  if (typeof fromConfig === 'string' && fromConfig !== '' && layers.configJson.file) {
    return {value: resolve(dirname(layers.configJson.file), fromConfig), source: 'config.json'}
  }
  if (layers.settings.poolsFile) return {value: resolve(layers.cwd, layers.settings.poolsFile), source: 'settings'}
  return {value: resolve(layers.cwd, 'provider_pools.json'), source: 'default'}
}
