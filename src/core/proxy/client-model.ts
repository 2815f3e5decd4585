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

const MARK = '"model'

/**
 * A same-protocol stream's text with every model field naming the client's model. Bytes are matched as latin1, one
 * character per byte: the pattern is ASCII and UTF-8 sequences hold no quote or backslash byte, so a piece that ends
 * inside a character (a line longer than the scrubber holds comes in pieces) passes unharmed. Most events carry no
 * model field (Anthropic names it in message_start only) and are returned as they came.
 */
export function renameModelFields(text: string, model: string): string
export function renameModelFields(text: string | Buffer, model: string): string | Buffer
export function renameModelFields(text: string | Buffer, model: string): string | Buffer {
  if (typeof text === 'string') {
    if (!text.includes(MARK)) return text
    const value = JSON.stringify(model)
    return text.replace(MODEL_FIELD, (_match, key: string) => `"${key}":${value}`)
  }
  if (text.indexOf(MARK) === -1) return text
  const value = Buffer.from(JSON.stringify(model)).toString('latin1')
  const renamed = text.toString('latin1').replace(MODEL_FIELD, (_match, key: string) => `"${key}":${value}`)
  return Buffer.from(renamed, 'latin1')
}
