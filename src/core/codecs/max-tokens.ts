// Anthropic requires `max_tokens`; when an OpenAI or Gemini client sends none, this table supplies it.
// The values are safe for every model of the family, not the family's maximum (a default of 200000 is
// rejected by every Claude model). First match on the model id wins:
//
// | model id contains                               | default |
// |-------------------------------------------------|---------|
// | `opus-4` (claude-opus-4, 4.1, 4.5…)             | 32000   |
// | `sonnet-4`, `haiku-4` (claude 4.x sonnet/haiku) | 8192    |
// | `3-7-sonnet`, `3-5-sonnet`, `3-5-haiku`         | 8192    |
// | `claude-3-opus`, `claude-3-sonnet`, `claude-3-haiku` | 4096 |
// | anything else                                   | 4096    |
export const ANTHROPIC_MAX_TOKENS_DEFAULTS: readonly {pattern: RegExp; maxTokens: number}[] = [
  {pattern: /opus-4|4-opus/, maxTokens: 32000},
  {pattern: /(sonnet|haiku)-4|4-(sonnet|haiku)/, maxTokens: 8192},
  {pattern: /3-[57]-(sonnet|haiku)/, maxTokens: 8192},
  {pattern: /claude-3-(opus|sonnet|haiku)/, maxTokens: 4096},
]

export const ANTHROPIC_FALLBACK_MAX_TOKENS = 4096

export function defaultAnthropicMaxTokens(model: string): number {
  const id = model.toLowerCase()
  const entry = ANTHROPIC_MAX_TOKENS_DEFAULTS.find(({pattern}) => pattern.test(id))
  return entry?.maxTokens ?? ANTHROPIC_FALLBACK_MAX_TOKENS
}
