import type {Dispatchers} from '../http/dispatchers.js'
import type {PoolStore} from '../pools/store.js'
import {entriesById} from '../pools/schema.js'
import type {PoolInstance, ProviderType} from '../pools/types.js'
import {claudeCustom, openAICustom, openAIResponsesCustom} from './key-providers.js'
import {geminiCodeAssist, kiroOAuth, qwenOAuth} from './oauth-providers.js'
import type {ProviderAdapter} from './types.js'

export type Adapters = Partial<Record<ProviderType, ProviderAdapter>>

/** Every provider type's adapter; a discovered Code Assist project is written back to its pool entry. */
export function createAdapters(dispatchers: Dispatchers, store?: PoolStore): Adapters {
  const oauth = {
    dispatchers,
    rememberProject: store
      ? (instance: PoolInstance, project: string) => rememberProject(store, instance, project)
      : undefined,
  }
  return {
    'openai-custom': openAICustom(dispatchers),
    'claude-custom': claudeCustom(dispatchers),
    'gemini-cli-oauth': geminiCodeAssist(oauth),
    'claude-kiro-oauth': kiroOAuth(oauth),
    'openai-qwen-oauth': qwenOAuth(oauth),
    'openaiResponses-custom': openAIResponsesCustom(dispatchers),
  }
}

async function rememberProject(store: PoolStore, instance: PoolInstance, project: string): Promise<void> {
  await store.update((doc) => {
    const raw = entriesById(doc).get(instance.id)
    if (!raw || raw.PROJECT_ID === project) return false
    raw.PROJECT_ID = project
    return true
  })
}
