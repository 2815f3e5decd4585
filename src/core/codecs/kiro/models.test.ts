import {describe, expect, it} from 'vitest'
import {KIRO_MODEL_IDS, kiroContextWindow, kiroModelId} from './models.js'

describe('kiroModelId', () => {
  it.each([
    ['claude-sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4.5'],
    ['claude-haiku-4-5', 'claude-haiku-4.5'],
    ['claude-sonnet-4', 'claude-sonnet-4'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['claude-opus-4-5', 'claude-opus-4.5'],
    ['claude-opus-4-1', 'claude-opus-4.1'],
    ['claude-3-7-sonnet-20250219', 'CLAUDE_3_7_SONNET_20250219_V1_0'],
    ['auto', 'auto'],
  ])('maps %s to %s', (model, id) => {
    expect(kiroModelId(model)).toBe(id)
  })

  it('passes Kiro ids and unknown names through unchanged', () => {
    for (const id of new Set(Object.values(KIRO_MODEL_IDS))) expect(kiroModelId(id)).toBe(id)
    expect(kiroModelId('gpt-4o')).toBe('gpt-4o')
    expect(kiroModelId('constructor')).toBe('constructor')
  })

  it('lets overrides win over the table', () => {
    expect(kiroModelId('claude-sonnet-4-5', {'claude-sonnet-4-5': 'CLAUDE_SONNET_4_5_20250929_V1_0'})).toBe(
      'CLAUDE_SONNET_4_5_20250929_V1_0',
    )
    expect(kiroModelId('my-alias', {'my-alias': 'claude-haiku-4.5'})).toBe('claude-haiku-4.5')
  })

  it('gives Opus a 1M context window and the others 200k', () => {
    expect(kiroContextWindow('claude-opus-4-5')).toBe(1_000_000)
    expect(kiroContextWindow('claude-opus-4.5')).toBe(1_000_000)
    expect(kiroContextWindow('claude-sonnet-4-5')).toBe(200_000)
    expect(kiroContextWindow(undefined)).toBe(200_000)
  })
})
