import type {ProviderType} from './types.js'

export interface TypeFields {
  /** The field holding the secret API key, for key types. */
  keyField?: string
  /** The field holding the credential file path, for OAuth types. */
  credsField?: string
  baseUrlField: string
  defaultBaseUrl?: string
  /** Other per-instance URL fields that must parse as URLs when present. */
  extraUrlFields: string[]
  loginCommand?: string
}

/** OpenAI's own key and base, shared by its two APIs (chat completions and Responses), as AIClient-2-API does. */
const OPENAI_FIELDS: TypeFields = {
  keyField: 'OPENAI_API_KEY',
  baseUrlField: 'OPENAI_BASE_URL',
  defaultBaseUrl: 'https://api.openai.com/v1',
  extraUrlFields: [],
}

export const TYPE_FIELDS: Record<ProviderType, TypeFields> = {
  'openai-custom': OPENAI_FIELDS,
  'claude-custom': {
    keyField: 'CLAUDE_API_KEY',
    baseUrlField: 'CLAUDE_BASE_URL',
    defaultBaseUrl: 'https://api.anthropic.com',
    extraUrlFields: [],
  },
  'gemini-cli-oauth': {
    credsField: 'GEMINI_OAUTH_CREDS_FILE_PATH',
    baseUrlField: 'GEMINI_BASE_URL',
    extraUrlFields: [],
    loginCommand: 'aiclient auth login gemini',
  },
  'claude-kiro-oauth': {
    credsField: 'KIRO_OAUTH_CREDS_FILE_PATH',
    baseUrlField: 'KIRO_BASE_URL',
    extraUrlFields: ['KIRO_REFRESH_URL', 'KIRO_REFRESH_IDC_URL'],
    loginCommand: 'aiclient auth login kiro',
  },
  'openai-qwen-oauth': {
    credsField: 'QWEN_OAUTH_CREDS_FILE_PATH',
    baseUrlField: 'QWEN_BASE_URL',
    extraUrlFields: ['QWEN_OAUTH_BASE_URL'],
    loginCommand: 'aiclient auth login qwen',
  },
  'openaiResponses-custom': OPENAI_FIELDS,
}

/** Field names whose values are secrets wherever they appear. */
export const SECRET_FIELD_PATTERN = /(api_?key|token|secret|password|authorization)/i
