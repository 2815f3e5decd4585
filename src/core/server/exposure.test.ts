import {describe, expect, it} from 'vitest'
import type {LoadedConfigJson} from '../config/config-file.js'
import {resolveServeSettings} from './options.js'

const found = (values: Record<string, unknown>): LoadedConfigJson => ({
  file: '/repo/config.json',
  chosen: false,
  values,
})
const chosen = (values: Record<string, unknown>): LoadedConfigJson => ({
  file: '/home/me/aiclient.json',
  chosen: true,
  values,
})
const none: LoadedConfigJson = {file: null, chosen: false, values: {}}

describe('what a config.json may open', () => {
  it('a found file cannot set a wide HOST or CORS_ORIGINS: ignored, with a warning saying how to set them', () => {
    const s = resolveServeSettings(
      {},
      {},
      found({HOST: '0.0.0.0', REQUIRED_API_KEY: 'repo-key', CORS_ORIGINS: ['https://evil.example']}),
      {},
    )
    expect(s.host).toBe('127.0.0.1')
    expect(s.corsOrigins).toEqual([])
    // A key narrows access, so it still applies.
    expect(s.apiKey).toBe('repo-key')
    expect(s.warnings).toEqual([
      expect.stringMatching(
        /\/repo\/config\.json sets HOST to 0\.0\.0\.0.*Ignored.*--host 0\.0\.0\.0.*aiclient config set host 0\.0\.0\.0.*--config \/repo\/config\.json/,
      ),
      expect.stringMatching(/sets CORS_ORIGINS to https:\/\/evil\.example.*--cors-origin https:\/\/evil\.example/),
    ])
  })

  it('a file the user named with --config counts as theirs', () => {
    const s = resolveServeSettings(
      {},
      {},
      chosen({
        HOST: '0.0.0.0',
        REQUIRED_API_KEY: 'my-key',
        CORS_ORIGINS: 'https://app.example/, HTTP://LOCALHOST:5173',
      }),
      {},
    )
    expect(s).toMatchObject({
      host: '0.0.0.0',
      apiKey: 'my-key',
      corsOrigins: ['https://app.example', 'http://localhost:5173'],
      warnings: [],
    })
  })

  it('a loopback HOST from a found file is harmless and used; a flag above it silences the file', () => {
    expect(resolveServeSettings({}, {}, found({HOST: 'localhost'}), {})).toMatchObject({
      host: 'localhost',
      warnings: [],
    })
    expect(resolveServeSettings({host: '127.0.0.2'}, {}, found({HOST: '0.0.0.0'}), {})).toMatchObject({
      host: '127.0.0.2',
      warnings: [],
    })
  })

  it("a found file's key cannot be what lets the server listen beyond loopback", () => {
    expect(() => resolveServeSettings({host: '0.0.0.0'}, {}, found({REQUIRED_API_KEY: 'repo-key'}), {})).toThrow(
      /Refusing to listen on 0\.0\.0\.0 with the API key from \/repo\/config\.json/,
    )
    // Even when the user's own settings open the host and hold a key: the file's key would be the one in force.
    expect(() =>
      resolveServeSettings({}, {}, found({REQUIRED_API_KEY: 'repo-key'}), {host: '0.0.0.0', apiKey: 'mine'}),
    ).toThrow(/needs|Refusing/)
    expect(
      resolveServeSettings({host: '0.0.0.0'}, {AICLIENT_API_KEY: 'env-key'}, found({REQUIRED_API_KEY: 'repo-key'}), {}),
    ).toMatchObject({host: '0.0.0.0', apiKey: 'env-key'})
    expect(resolveServeSettings({}, {}, none, {host: '0.0.0.0', apiKey: 'mine'})).toMatchObject({
      host: '0.0.0.0',
      apiKey: 'mine',
    })
    expect(() => resolveServeSettings({host: '0.0.0.0'}, {}, none, {})).toThrow(/without an API key/)
    expect(() => resolveServeSettings({apiKey: ''}, {}, none, {})).toThrow(/--api-key is empty/)
  })
})

describe('CORS origins', () => {
  it('flag → environment → config.json → user setting, normalised', () => {
    const config = chosen({CORS_ORIGINS: ['https://from-config.example']})
    const settings = {corsOrigins: 'https://from-settings.example'}
    expect(
      resolveServeSettings(
        {corsOrigins: ['http://a.example:8080/', 'http://b.example,http://c.example']},
        {AICLIENT_CORS_ORIGINS: 'https://env.example'},
        config,
        settings,
      ).corsOrigins,
    ).toEqual(['http://a.example:8080', 'http://b.example', 'http://c.example'])
    expect(
      resolveServeSettings({}, {AICLIENT_CORS_ORIGINS: 'https://env.example'}, config, settings).corsOrigins,
    ).toEqual(['https://env.example'])
    expect(resolveServeSettings({}, {}, config, settings).corsOrigins).toEqual(['https://from-config.example'])
    expect(resolveServeSettings({}, {}, none, settings).corsOrigins).toEqual(['https://from-settings.example'])
    expect(resolveServeSettings({}, {}, none, {}).corsOrigins).toEqual([])
  })

  it('a wildcard, null or a URL with a path is refused with a clear message', () => {
    for (const bad of ['*', 'null', 'https://app.example/page', 'localhost:5173']) {
      expect(() => resolveServeSettings({corsOrigins: [bad]}, {}, none, {}), bad).toThrow(
        /--cors-origin: .* is not an origin.*scheme:\/\/host\[:port\]/,
      )
    }
  })
})
