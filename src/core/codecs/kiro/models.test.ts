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

  it.each([
    ['claude-opus-5-5', 'claude-opus-4.8'],
    ['claude-opus-5', 'claude-opus-4.8'],
    ['claude-sonnet-9', 'claude-sonnet-4.6'],
    ['claude-sonnet-4-7-20260101', 'claude-sonnet-4.6'],
    ['claude-haiku-5-1', 'claude-haiku-4.5'],
  ])('maps the unknown but well-formed %s to the newest of its family, %s, and says so', (model, id) => {
    const heard: string[] = []
    expect(kiroModelId(model, {}, (from, to) => heard.push(`${from}→${to}`))).toBe(id)
    expect(heard).toEqual([`${model}→${id}`])
  })

  it('keeps names of unknown families or shapes for the upstream to judge, without a word', () => {
    const heard: string[] = []
    for (const model of ['claude-mythos-1', 'claude-opus', 'claude-opus-5-5-fast', 'claude-opus-4.9'])
      expect(kiroModelId(model, {}, (from) => heard.push(from))).toBe(model)
    expect(kiroModelId('claude-opus-4-8', {}, (from) => heard.push(from))).toBe('claude-opus-4.8')
    expect(heard).toEqual([])
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
