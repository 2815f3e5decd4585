import type {Dispatchers} from '../http/dispatchers.js'
import type {ProviderType} from '../pools/types.js'
import {claudeCustom, openAICustom} from './key-providers.js'
import type {ProviderAdapter} from './types.js'

export type Adapters = Partial<Record<ProviderType, ProviderAdapter>>

export function createAdapters(dispatchers: Dispatchers): Adapters {
  return {'openai-custom': openAICustom(dispatchers), 'claude-custom': claudeCustom(dispatchers)}
}
