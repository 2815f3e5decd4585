/**
 * When an alias sent the upstream another model than the client asked for, answers name the client's model again:
 * clients match answers to requests by it, and Claude Code shows it. Anthropic, OpenAI and Responses answers carry
 * `model`, Gemini answers `modelVersion`.
 */
const MODEL_KEYS = ['model', 'modelVersion'] as const

/** A plain answer with its top-level model fields renamed. */
export function withClientModel(json: unknown, model: string): unknown {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return json
  const renamed: Record<string, unknown> = {...(json as Record<string, unknown>)}
  for (const key of MODEL_KEYS) if (typeof renamed[key] === 'string') renamed[key] = model
  return renamed
}

/**
 * A string-valued `"model"` / `"modelVersion"` key. Inside a JSON string every quote is escaped, so an unescaped
 * `"model"` followed by a colon is always a key: generated text that quotes one is never touched.
 */
const MODEL_FIELD = /"(model|modelVersion)"\s*:\s*"(?:[^"\\]|\\.)*"/g

/** Whole SSE lines of a same-protocol stream, with every model field naming the client's model. */
export function renameModelFields(text: string | Buffer, model: string): string {
  const value = JSON.stringify(model)
  return text.toString().replace(MODEL_FIELD, (_match, key: string) => `"${key}":${value}`)
}
