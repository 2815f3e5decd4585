import {describe, expect, it} from 'vitest'
import {ANTHROPIC_FALLBACK_MAX_TOKENS, defaultAnthropicMaxTokens} from './max-tokens.js'

describe('defaultAnthropicMaxTokens', () => {
  it.each([
    ['claude-opus-4-1-20250805', 32000],
    ['claude-opus-4-5', 32000],
    ['claude-4-opus-20250514', 32000],
    ['claude-sonnet-4-5-20250929', 8192],
    ['claude-haiku-4-5', 8192],
    ['claude-sonnet-4-20250514', 8192],
    ['claude-3-7-sonnet-latest', 8192],
    ['claude-3-5-sonnet-20241022', 8192],
    ['claude-3-5-haiku-20241022', 8192],
    ['claude-3-haiku-20240307', 4096],
    ['claude-3-opus-20240229', 4096],
    ['some-compatible-model', ANTHROPIC_FALLBACK_MAX_TOKENS],
  ])('%s → %i', (model, expected) => {
    expect(defaultAnthropicMaxTokens(model)).toBe(expected)
  })

  it('never answers with a context-window-sized default', () => {
    for (const model of ['claude-opus-4', 'claude-sonnet-4', 'x']) {
      expect(defaultAnthropicMaxTokens(model)).toBeLessThanOrEqual(32000)
    }
  })
})
