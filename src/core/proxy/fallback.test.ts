import {describe, expect, it} from 'vitest'
import type {ProviderType} from '../pools/types.js'
import {
  fallbackChainProblem,
  fallbackRoutes,
  modelFallbackProblem,
  servedFallbacks,
  type Fallbacks,
} from './fallback.js'

const all = () => true
const KIRO = {type: 'claude-kiro-oauth', model: 'claude-opus-5-5'} as const

describe('fallbackRoutes', () => {
  it('tries the chain in its order, with the request model, then the model mapping', () => {
    const fallbacks: Fallbacks = {
      chain: {'claude-kiro-oauth': ['claude-custom', 'openai-custom']},
      models: {'claude-opus-5-5': {targetProviderType: 'gemini-cli-oauth', targetModel: 'gemini-2.5-pro'}},
    }
    expect(fallbackRoutes(KIRO, fallbacks, all)).toEqual([
      {type: 'claude-custom', model: 'claude-opus-5-5'},
      {type: 'openai-custom', model: 'claude-opus-5-5'},
      {type: 'gemini-cli-oauth', model: 'gemini-2.5-pro'},
    ])
  })

  it('leaves out the types that have no instance', () => {
    const fallbacks: Fallbacks = {chain: {'claude-kiro-oauth': ['claude-custom', 'openai-custom']}, models: {}}
    const onlyOpenAI = (type: ProviderType) => type === 'openai-custom'
    expect(fallbackRoutes(KIRO, fallbacks, onlyOpenAI)).toEqual([{type: 'openai-custom', model: 'claude-opus-5-5'}])
  })

  it('does not follow a fallback type into its own chain, so types naming each other do not loop', () => {
    const fallbacks: Fallbacks = {
      chain: {'claude-kiro-oauth': ['claude-custom'], 'claude-custom': ['claude-kiro-oauth', 'openai-custom']},
      models: {},
    }
    expect(fallbackRoutes(KIRO, fallbacks, all)).toEqual([{type: 'claude-custom', model: 'claude-opus-5-5'}])
  })

  it('tries a type once per model, and never the request itself again', () => {
    const fallbacks: Fallbacks = {
      chain: {'claude-kiro-oauth': ['claude-custom', 'claude-custom']},
      models: {
        'claude-opus-5-5': {targetProviderType: 'claude-kiro-oauth', targetModel: 'claude-opus-5-5'},
      },
    }
    expect(fallbackRoutes(KIRO, fallbacks, all)).toEqual([{type: 'claude-custom', model: 'claude-opus-5-5'}])
  })

  it('has nothing for a type without a chain and a model without a mapping', () => {
    expect(fallbackRoutes(KIRO, {chain: {'claude-custom': ['openai-custom']}, models: {}}, all)).toEqual([])
  })
})

describe('config problems', () => {
  it('accepts the AIClient-2-API shapes', () => {
    expect(fallbackChainProblem({'claude-kiro-oauth': ['claude-custom', 'openai-custom']})).toBeUndefined()
    expect(
      modelFallbackProblem({
        'claude-opus-5-5': {targetProviderType: 'gemini-cli-oauth', targetModel: 'gemini-2.5-pro'},
      }),
    ).toBeUndefined()
  })

  it.each([
    [['claude-custom'], 'must be an object of provider type → list of provider types, not ["claude-custom"]'],
    [{'claude-custom': 'openai-custom'}, '.claude-custom must be a list of provider types, not "openai-custom"'],
    [{'claude-custom': ['openai-custom', 7]}, '.claude-custom must list provider types, not 7'],
    [{'claude-custom': ['claude-custom']}, '.claude-custom names its own type; a type cannot fall back to itself'],
  ])('providerFallbackChain %j: %s', (value, problem) => {
    expect(fallbackChainProblem(value)).toContain(problem)
  })

  it.each([
    ['gemini-2.5-pro', 'must be an object of model name → '],
    [{m: 'gemini-2.5-pro'}, '["m"] must be {"targetProviderType": '],
    [{m: {targetProviderType: 7, targetModel: 'x'}}, '["m"].targetProviderType must be a provider type, not 7'],
    [{m: {targetProviderType: 'gemini-cli-oauth'}}, '["m"].targetModel must be a model name, not nothing'],
  ])('modelFallbackMapping %j: %s', (value, problem) => {
    expect(modelFallbackProblem(value)).toContain(problem)
  })
})

describe('types aiclient does not serve', () => {
  it('are left out of the chains and mappings, and named once each', () => {
    const {fallbacks, unknown} = servedFallbacks(
      {
        'gemini-cli-oauth': ['gemini-antigravity'],
        'gemini-antigravity': ['gemini-cli-oauth'],
        'claude-kiro-oauth': ['claude-custom', 'openai-iflow'],
      },
      {
        'claude-opus-4-5': {targetProviderType: 'gemini-antigravity', targetModel: 'gemini-claude-opus-4-5-thinking'},
        'claude-sonnet-4-6': {targetProviderType: 'claude-kiro-oauth', targetModel: 'claude-sonnet-4-6'},
      },
    )
    expect(fallbacks).toEqual({
      chain: {'claude-kiro-oauth': ['claude-custom']},
      models: {'claude-sonnet-4-6': {targetProviderType: 'claude-kiro-oauth', targetModel: 'claude-sonnet-4-6'}},
    })
    expect(unknown).toEqual(['gemini-antigravity', 'openai-iflow'])
  })

  it('leave everything else as it is (control)', () => {
    const chain = {'claude-kiro-oauth': ['claude-custom', 'openai-custom']}
    const models = {m: {targetProviderType: 'gemini-cli-oauth', targetModel: 'gemini-2.5-pro'}}
    expect(servedFallbacks(chain, models)).toEqual({fallbacks: {chain, models}, unknown: []})
  })
})
