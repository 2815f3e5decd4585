import {describe, expect, it} from 'vitest'
import {ModelAliasResolver, aliasTableProblems, compileAliases, lookupAlias, modelAliasesProblems} from './aliases.js'

describe('lookupAlias', () => {
  const table = compileAliases({
    '*': 'fallback',
    'claude-*': 'any-claude',
    'claude-opus-5-*': 'opus-5',
    'claude-opus-5-5': 'exact',
    'claude-*-latest': 'latest',
    'gpt-*-mini': 'mini',
  })

  it('prefers an exact name to every pattern', () => {
    expect(lookupAlias(table, 'claude-opus-5-5')).toBe('exact')
  })

  it('prefers the pattern with the longest literal prefix', () => {
    expect(lookupAlias(table, 'claude-opus-5-6')).toBe('opus-5')
    expect(lookupAlias(table, 'claude-sonnet-9')).toBe('any-claude')
    expect(lookupAlias(table, 'gemini-3-pro')).toBe('fallback')
  })

  it('breaks a tie of prefixes by the literal characters in all, then by the order written', () => {
    // `claude-*-latest` and `claude-*` share the prefix `claude-`; the longer pattern is more specific.
    expect(lookupAlias(table, 'claude-opus-latest')).toBe('latest')
    const tied = compileAliases({'a*': 'short', 'a*x*': 'first', 'a*y*': 'second', 'ab*': 'longer-prefix'})
    expect(lookupAlias(tied, 'axy')).toBe('first')
    expect(lookupAlias(tied, 'aby')).toBe('longer-prefix')
    expect(lookupAlias(tied, 'a')).toBe('short')
  })

  it('matches a star anywhere, and regex characters literally', () => {
    expect(lookupAlias(table, 'gpt-4o-mini')).toBe('mini')
    const dotted = compileAliases({'gpt-4.1*': 'dotted'})
    expect(lookupAlias(dotted, 'gpt-4x1-mini')).toBeUndefined()
    expect(lookupAlias(dotted, 'gpt-4.1-mini')).toBe('dotted')
  })

  it('finds nothing when nothing matches, and never an inherited key', () => {
    const plain = compileAliases({'claude-opus-5-5': 'x'})
    expect(lookupAlias(plain, 'claude-opus-5-6')).toBeUndefined()
    expect(lookupAlias(plain, 'constructor')).toBeUndefined()
  })
})

describe('ModelAliasResolver', () => {
  const resolver = new ModelAliasResolver({
    'claude-kiro-oauth': {'claude-opus-5-*': 'claude-opus-4-8', 'claude-haiku-9': 'claude-haiku-4-5'},
    'gemini-cli-oauth': {'claude-*': 'gemini-2.5-pro'},
  })

  it('applies the table of the request type only', () => {
    expect(resolver.resolve('claude-kiro-oauth', undefined, 'claude-opus-5-5')).toBe('claude-opus-4-8')
    expect(resolver.resolve('gemini-cli-oauth', undefined, 'claude-opus-5-5')).toBe('gemini-2.5-pro')
    expect(resolver.resolve('openai-custom', undefined, 'claude-opus-5-5')).toBeUndefined()
  })

  it("lets any entry of the instance's table win over the type's, even a pattern over an exact name", () => {
    const own = {'claude-*': 'claude-sonnet-4-6'}
    expect(resolver.resolve('claude-kiro-oauth', own, 'claude-haiku-9')).toBe('claude-sonnet-4-6')
    expect(resolver.resolve('claude-kiro-oauth', {x: 'y'}, 'claude-haiku-9')).toBe('claude-haiku-4-5')
  })

  it('ignores a malformed instance table (pool doctor reports it)', () => {
    expect(resolver.resolve('claude-kiro-oauth', {'claude-*': 5}, 'claude-opus-5-5')).toBe('claude-opus-4-8')
    expect(resolver.resolve('claude-kiro-oauth', 'claude-opus-4-8', 'claude-opus-5-5')).toBe('claude-opus-4-8')
  })

  it('lists the exact names of both levels, once each', () => {
    expect(resolver.names('claude-kiro-oauth', [{'claude-haiku-9': 'a', mine: 'b', 'p-*': 'c'}, undefined])).toEqual([
      'claude-haiku-9',
      'mine',
    ])
    expect(resolver.names('openai-custom', [])).toEqual([])
  })
})

describe('validation', () => {
  it('names the entry at fault', () => {
    expect(aliasTableProblems({'': 'x', a: '', b: 3, c: 'd*', e: 'f'})).toEqual([
      {at: '[""]', problem: 'a model name must not be empty'},
      {at: '["a"]', problem: 'must be the model name the upstream is sent, not ""'},
      {at: '["b"]', problem: 'must be the model name the upstream is sent, not 3'},
      {at: '["c"]', problem: 'must be a model name, not the pattern "d*"'},
    ])
    expect(aliasTableProblems(['a'])[0]!.at).toBe('')
  })

  it('checks the provider types and each table of MODEL_ALIASES', () => {
    expect(modelAliasesProblems({'claude-kiro-oauth': {'claude-*': 'claude-opus-4-8'}})).toEqual([])
    expect(modelAliasesProblems({kiro: {}, 'gemini-cli-oauth': {'claude-*': null}})).toEqual([
      {at: '.kiro', problem: expect.stringContaining('is not a provider type')},
      {at: '.gemini-cli-oauth["claude-*"]', problem: 'must be the model name the upstream is sent, not null'},
    ])
    expect(modelAliasesProblems('x')).toHaveLength(1)
  })
})
