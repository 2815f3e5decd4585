import type {ProviderType} from '../pools/types.js'

/** Served by /v1/models when no instance of the type can list its own models. */
export const FALLBACK_MODELS: Record<ProviderType, string[]> = {
  'openai-custom': ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'o4-mini'],
  'claude-custom': ['claude-opus-4-8', 'claude-sonnet-4-6', 'claude-haiku-4-5'],
  'gemini-cli-oauth': ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite'],
  'claude-kiro-oauth': ['claude-sonnet-4-6', 'claude-opus-4-8', 'claude-haiku-4-5'],
  'openai-qwen-oauth': ['qwen3-coder-plus', 'qwen3-coder-flash'],
  'openaiResponses-custom': ['gpt-5.4', 'gpt-5.4-mini', 'gpt-5.2', 'gpt-5.1-codex', 'gpt-4.1', 'gpt-4o-mini'],
}
