import {describe, expect, it, vi} from 'vitest'
import type {ProviderType} from '../pools/types.js'
import {HttpError} from './http-error.js'
import {resolveType, type TypeChoice} from './resolve-type.js'

const both: ProviderType[] = ['openai-custom', 'claude-custom']
const choice = (overrides: Partial<TypeChoice>, configured: ProviderType[] = both): TypeChoice => ({
  configuredTypes: () => configured,
  ...overrides,
})

describe('resolveType: path prefix → Model-Provider header → type: model prefix → default → the only type', () => {
  it.each<[string, TypeChoice, string, {type: ProviderType; model: string}]>([
    [
      'the path prefix wins over everything',
      choice({typePrefix: 'claude-custom', header: 'openai-custom', defaultType: 'openai-custom'}),
      'openai-custom:gpt-4o',
      {type: 'claude-custom', model: 'gpt-4o'},
    ],
    [
      'the path prefix does not look at an unknown header',
      choice({typePrefix: 'claude-custom', header: 'nonsense'}),
      'm',
      {type: 'claude-custom', model: 'm'},
    ],
    [
      'the header wins over the model prefix and the default',
      choice({header: 'claude-custom', defaultType: 'openai-custom'}),
      'openai-custom:gpt-4o',
      {type: 'claude-custom', model: 'gpt-4o'},
    ],
    [
      'an empty header counts as none',
      choice({header: '', defaultType: 'openai-custom'}),
      'gpt-4o',
      {type: 'openai-custom', model: 'gpt-4o'},
    ],
    [
      'the model prefix wins over the default',
      choice({defaultType: 'openai-custom'}),
      'claude-custom:claude-sonnet-4-6',
      {type: 'claude-custom', model: 'claude-sonnet-4-6'},
    ],
    [
      'a model prefix that names no type is part of the model',
      choice({defaultType: 'openai-custom'}),
      'ft:gpt-4o:org',
      {type: 'openai-custom', model: 'ft:gpt-4o:org'},
    ],
    [
      'a leading colon is no prefix',
      choice({defaultType: 'openai-custom'}),
      ':claude-custom',
      {type: 'openai-custom', model: ':claude-custom'},
    ],
    [
      'the default wins over the configured types',
      choice({defaultType: 'claude-custom'}, ['openai-custom']),
      'm',
      {type: 'claude-custom', model: 'm'},
    ],
    [
      'the only configured type is the last resort',
      choice({}, ['gemini-cli-oauth']),
      'gemini-2.5-pro',
      {type: 'gemini-cli-oauth', model: 'gemini-2.5-pro'},
    ],
  ])('%s', (_name, given, rawModel, expected) => {
    expect(resolveType(given, rawModel)).toEqual(expected)
  })

  it.each<[string, TypeChoice, number, RegExp]>([
    [
      'an unknown Model-Provider header',
      choice({header: 'nonsense', defaultType: 'openai-custom'}),
      400,
      /Unknown provider type "nonsense" in the Model-Provider header/,
    ],
    [
      'several configured types and no way to choose',
      choice({}),
      400,
      /Several provider types are configured \(openai-custom, claude-custom\)/,
    ],
    ['an empty pool', choice({}, []), 503, /no instances/],
  ])('refuses %s', (_name, given, status, message) => {
    const attempt = () => resolveType(given, 'm')
    expect(attempt).toThrow(HttpError)
    expect(attempt).toThrow(message)
    expect(attempt).toThrow(expect.objectContaining({status}))
  })

  it('asks for the configured types only when nothing else chose', () => {
    const configuredTypes = vi.fn((): ProviderType[] => ['openai-custom'])
    resolveType({configuredTypes, header: 'claude-custom'}, 'm')
    expect(configuredTypes).not.toHaveBeenCalled()
    resolveType({configuredTypes}, 'm')
    expect(configuredTypes).toHaveBeenCalledOnce()
  })
})
