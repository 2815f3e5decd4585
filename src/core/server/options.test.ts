import {describe, expect, it} from 'vitest'
import {PROVIDER_TYPES} from '../pools/types.js'
import {resolveServeSettings, routingOf, upstreamTimeouts} from './options.js'

const each = (headersMs: number, idleMs: number) =>
  Object.fromEntries(PROVIDER_TYPES.map((type) => [type, {headersMs, idleMs}]))

describe('upstream timeouts', () => {
  it('default to ten minutes for every type: reasoning models think before they answer', () => {
    expect(upstreamTimeouts({})).toEqual({
      connectMs: 10_000,
      headersMs: 600_000,
      idleMs: 600_000,
      byType: each(600_000, 600_000),
    })
  })

  it('take a number as the setting for every type, as HEADERS_TIMEOUT_SECONDS always did', () => {
    const timeouts = upstreamTimeouts({
      HEADERS_TIMEOUT_SECONDS: 90,
      STREAM_IDLE_TIMEOUT_SECONDS: 45,
      CONNECT_TIMEOUT_SECONDS: 3,
    })
    expect(timeouts).toEqual({connectMs: 3000, headersMs: 90_000, idleMs: 45_000, byType: each(90_000, 45_000)})
  })

  it('take an object per type, with an optional default for the types it does not name', () => {
    const timeouts = upstreamTimeouts({
      HEADERS_TIMEOUT_SECONDS: {default: 120, 'openai-custom': 1800},
      STREAM_IDLE_TIMEOUT_SECONDS: {'claude-kiro-oauth': 30},
    })
    expect(timeouts.byType['openai-custom']).toEqual({headersMs: 1_800_000, idleMs: 600_000})
    expect(timeouts.byType['claude-kiro-oauth']).toEqual({headersMs: 120_000, idleMs: 30_000})
    expect(timeouts.byType['claude-custom']).toEqual({headersMs: 120_000, idleMs: 600_000})
    // The dispatchers' own setting is the longest, so that no type's requests are cut short by it.
    expect(timeouts.headersMs).toBe(1_800_000)
    expect(timeouts.idleMs).toBe(600_000)
  })

  it('reach the serve settings', () => {
    const settings = resolveServeSettings(
      {},
      {},
      {file: null, chosen: false, values: {HEADERS_TIMEOUT_SECONDS: {'gemini-cli-oauth': 900}}},
      {},
    )
    expect(settings.timeouts.byType['gemini-cli-oauth'].headersMs).toBe(900_000)
  })

  it.each([
    [{HEADERS_TIMEOUT_SECONDS: 0}, /HEADERS_TIMEOUT_SECONDS must be a positive number/],
    [
      {HEADERS_TIMEOUT_SECONDS: '600'},
      /HEADERS_TIMEOUT_SECONDS must be a positive number of seconds for every provider type, or an object/,
    ],
    [{HEADERS_TIMEOUT_SECONDS: [600]}, /HEADERS_TIMEOUT_SECONDS must be a positive number of seconds/],
    [
      {STREAM_IDLE_TIMEOUT_SECONDS: {'openai-cusotm': 60}},
      /STREAM_IDLE_TIMEOUT_SECONDS names an unknown provider type "openai-cusotm". Valid keys: default, openai-custom/,
    ],
    [
      {HEADERS_TIMEOUT_SECONDS: {'claude-custom': -1}},
      /HEADERS_TIMEOUT_SECONDS.claude-custom must be a positive number of seconds, not -1/,
    ],
    [
      {HEADERS_TIMEOUT_SECONDS: {default: null}},
      /HEADERS_TIMEOUT_SECONDS.default must be a positive number of seconds, not null/,
    ],
  ])('refuse %j with a clear message', (config, message) => {
    expect(() => upstreamTimeouts(config)).toThrow(message)
  })
})

describe('MODEL_ALIASES', () => {
  const settingsWith = (config: Record<string, unknown>, user: Record<string, unknown> = {}) =>
    resolveServeSettings({}, {}, {file: null, chosen: true, values: config}, user)
  const aliases = {'claude-kiro-oauth': {'claude-opus-5-*': 'claude-opus-4-8'}}

  it("come from config.json, else from the user setting, a whole layer's value winning", () => {
    expect(settingsWith({}).modelAliases).toEqual({})
    expect(settingsWith({MODEL_ALIASES: aliases}).modelAliases).toEqual(aliases)
    const user = {'gemini-cli-oauth': {'claude-*': 'gemini-2.5-pro'}}
    expect(settingsWith({}, {modelAliases: user}).modelAliases).toEqual(user)
    expect(settingsWith({MODEL_ALIASES: aliases}, {modelAliases: user}).modelAliases).toEqual(aliases)
  })

  it('refuse a bad value as bad config, naming the JSON path', () => {
    const refused = (config: Record<string, unknown>, user: Record<string, unknown> = {}) => {
      try {
        settingsWith(config, user)
      } catch (error) {
        return error as {message: string; code: string; exit: number}
      }
      throw new Error('accepted')
    }
    expect(refused({MODEL_ALIASES: {'claude-kiro-oauth': {'claude-*': ['x']}}})).toMatchObject({
      message:
        'config.json: MODEL_ALIASES.claude-kiro-oauth["claude-*"] must be the model name the upstream is sent, not ["x"].',
      code: 'bad_config',
      exit: 2,
    })
    expect(refused({MODEL_ALIASES: {kiro: {}}}).message).toMatch(
      /^config\.json: MODEL_ALIASES\.kiro is not a provider type/,
    )
    expect(refused({MODEL_ALIASES: []}).message).toMatch(/^config\.json: MODEL_ALIASES must map provider types/)
    expect(refused({}, {modelAliases: {'openai-custom': {a: 'b*'}}}).message).toBe(
      'user setting modelAliases.openai-custom["a"] must be a model name, not the pattern "b*".',
    )
  })
})

describe('ROUTING_STRATEGY', () => {
  const serve = (value: unknown) =>
    resolveServeSettings({}, {}, {file: null, chosen: true, values: {ROUTING_STRATEGY: value}}, {}).routing

  it('is round-robin for every type when unset', () => {
    expect(resolveServeSettings({}, {}, {file: null, chosen: true, values: {}}, {}).routing).toEqual({})
  })

  it('takes one strategy for every type', () => {
    expect(routingOf('fill-first')).toEqual(Object.fromEntries(PROVIDER_TYPES.map((type) => [type, 'fill-first'])))
    expect(serve('least-busy')['claude-custom']).toBe('least-busy')
  })

  it('takes an object by type, with an optional default for the types it does not name', () => {
    expect(routingOf({'claude-kiro-oauth': 'fill-first', 'openai-custom': 'weighted'})).toEqual({
      'claude-kiro-oauth': 'fill-first',
      'openai-custom': 'weighted',
    })
    const routing = routingOf({default: 'least-busy', 'claude-kiro-oauth': 'fill-first'})
    expect(routing['claude-kiro-oauth']).toBe('fill-first')
    expect(routing['gemini-cli-oauth']).toBe('least-busy')
  })

  it.each([
    ['fastest', /ROUTING_STRATEGY must be one of round-robin, fill-first, weighted, least-busy, not "fastest"/],
    [{'claude-custom': 'random'}, /ROUTING_STRATEGY\.claude-custom must be one of .*, not "random"/],
    [{kiro: 'fill-first'}, /ROUTING_STRATEGY names an unknown provider type "kiro"\. Valid keys: default, /],
    [['fill-first'], /ROUTING_STRATEGY must be a strategy .* or an object of them by provider type/],
    [3, /ROUTING_STRATEGY must be a strategy/],
  ])('refuses %j as bad config with a clear message', (value, message) => {
    expect(() => serve(value)).toThrow(message)
    try {
      serve(value)
    } catch (error) {
      expect((error as {code?: string}).code).toBe('bad_config')
    }
  })
})

describe('providerFallbackChain and modelFallbackMapping', () => {
  const serve = (values: Record<string, unknown>) =>
    resolveServeSettings({}, {}, {file: null, chosen: true, values}, {}).fallbacks

  it('are read under AIClient-2-API’s own keys, empty when unset', () => {
    expect(serve({})).toEqual({chain: {}, models: {}})
    const chain = {'claude-kiro-oauth': ['claude-custom', 'openai-custom']}
    const models = {'claude-opus-5-5': {targetProviderType: 'gemini-cli-oauth', targetModel: 'gemini-2.5-pro'}}
    expect(serve({providerFallbackChain: chain, modelFallbackMapping: models})).toEqual({chain, models})
  })

  it.each([
    [
      {providerFallbackChain: {'claude-kiro-oauth': ['claude-kiro-oauth']}},
      'config.json: providerFallbackChain.claude-kiro-oauth names its own type; a type cannot fall back to itself.',
    ],
    [
      {providerFallbackChain: {'claude-kiro-oauth': 'claude-custom'}},
      'config.json: providerFallbackChain.claude-kiro-oauth must be a list of provider types, not "claude-custom".',
    ],
    [
      {modelFallbackMapping: {m: {targetProviderType: 7, targetModel: 'g'}}},
      'config.json: modelFallbackMapping["m"].targetProviderType must be a provider type, not 7.',
    ],
  ])('refuses %j as bad config', (values, message) => {
    expect(() => serve(values)).toThrow(message)
    try {
      serve(values)
    } catch (error) {
      expect((error as {code?: string}).code).toBe('bad_config')
    }
  })
})

describe("AIClient-2-API's own config.json", () => {
  // configs/config.json.example of AIClient-2-API: its keys, with the fallbacks naming gemini-antigravity, a type
  // of that tool's that aiclient does not have.
  const theirs = {
    REQUIRED_API_KEY: '123456',
    SERVER_PORT: 3000,
    HOST: '0.0.0.0',
    MODEL_PROVIDER: 'gemini-cli-oauth',
    SYSTEM_PROMPT_MODE: 'overwrite',
    REQUEST_MAX_RETRIES: 3,
    PROVIDER_POOLS_FILE_PATH: 'configs/provider_pools.json',
    MAX_ERROR_COUNT: 3,
    providerFallbackChain: {
      'gemini-cli-oauth': ['gemini-antigravity'],
      'gemini-antigravity': ['gemini-cli-oauth'],
      'claude-kiro-oauth': ['claude-custom'],
      'claude-custom': ['claude-kiro-oauth'],
    },
    modelFallbackMapping: {
      'claude-opus-4-5': {targetProviderType: 'gemini-antigravity', targetModel: 'gemini-claude-opus-4-5-thinking'},
      'gemini-claude-sonnet-4-5': {targetProviderType: 'claude-kiro-oauth', targetModel: 'claude-sonnet-4-5'},
    },
    LOG_LEVEL: 'info',
  }

  it('loads: the fallbacks between types aiclient serves are kept, the others ignored with a warning', () => {
    const settings = resolveServeSettings({}, {}, {file: null, chosen: true, values: theirs}, {})
    expect(settings.fallbacks).toEqual({
      chain: {'claude-kiro-oauth': ['claude-custom'], 'claude-custom': ['claude-kiro-oauth']},
      models: {'gemini-claude-sonnet-4-5': {targetProviderType: 'claude-kiro-oauth', targetModel: 'claude-sonnet-4-5'}},
    })
    expect(settings.warnings).toContain(
      'config.json: providerFallbackChain / modelFallbackMapping name "gemini-antigravity", which aiclient does not ' +
        `serve; those entries are ignored. Valid types: ${PROVIDER_TYPES.join(', ')}.`,
    )
  })
})

describe('SESSION_AFFINITY', () => {
  const affinity = (values: Record<string, unknown>) =>
    resolveServeSettings({}, {}, {file: null, chosen: true, values: values as never}, {}).sessionAffinity

  it('is on by default for an hour and 10,000 sessions, with its limits tunable, and off with false', () => {
    expect(affinity({})).toEqual({ttlMs: 3_600_000, maxEntries: 10_000})
    expect(
      affinity({SESSION_AFFINITY: true, SESSION_AFFINITY_TTL_MINUTES: 5, SESSION_AFFINITY_MAX_ENTRIES: 50}),
    ).toEqual({ttlMs: 300_000, maxEntries: 50})
    expect(affinity({SESSION_AFFINITY: false})).toBeNull()
  })

  it.each([['no'], [0], [null]])('refuses %j', (value) => {
    expect(() => affinity({SESSION_AFFINITY: value})).toThrow(/SESSION_AFFINITY must be true or false/)
  })
})

describe('TOKEN_ACCOUNTING', () => {
  const accounting = (values: Record<string, unknown>) =>
    resolveServeSettings({}, {}, {file: null, chosen: true, values: values as never}, {}).tokenAccounting

  it('is on unless false', () => {
    expect(accounting({})).toBe(true)
    expect(accounting({TOKEN_ACCOUNTING: true})).toBe(true)
    expect(accounting({TOKEN_ACCOUNTING: false})).toBe(false)
  })

  it.each([['false'], [0], [null]])('refuses %j', (value) => {
    expect(() => accounting({TOKEN_ACCOUNTING: value})).toThrow(/TOKEN_ACCOUNTING must be true or false, not/)
  })
})

describe('METRICS_ENABLED and --allow-local-admin', () => {
  const settings = (values: Record<string, unknown>, flags = {}) =>
    resolveServeSettings(flags, {}, {file: null, chosen: true, values: values as never}, {})

  it('turn metrics on unless false, and local changes over HTTP off unless the flag is given', () => {
    expect(settings({})).toMatchObject({metricsEnabled: true, allowLocalAdmin: false})
    expect(settings({METRICS_ENABLED: false}).metricsEnabled).toBe(false)
    expect(settings({}, {allowLocalAdmin: true}).allowLocalAdmin).toBe(true)
  })

  it('refuses a METRICS_ENABLED that is not a boolean', () => {
    expect(() => settings({METRICS_ENABLED: 'no'})).toThrow(
      'config.json: METRICS_ENABLED must be true or false, not "no".',
    )
  })
})
