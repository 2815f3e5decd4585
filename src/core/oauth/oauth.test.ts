import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {PoolStore} from '../pools/store.js'
import {checkCallbackUrl} from './callback.js'
import {resolveEndpoints, withRegion} from './endpoints.js'
import {kiroAuthMethod} from './kiro.js'
import {addLoginToPool} from './login.js'
import {createPkcePair, pkceChallenge} from './pkce.js'
import {qwenApiBaseUrl} from './qwen.js'

describe('PKCE', () => {
  it('makes a 43-character verifier and its S256 challenge', () => {
    const pair = createPkcePair()
    expect(pair.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(pair.challenge).toBe(pkceChallenge(pair.verifier))
    // RFC 7636 appendix B
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    )
  })
})

describe('checkCallbackUrl', () => {
  it('checks state before anything else', () => {
    expect(checkCallbackUrl('http://127.0.0.1:1/cb?code=c&state=s', 's')).toEqual({ok: true, code: 'c'})
    expect(checkCallbackUrl('http://127.0.0.1:1/cb?error=access_denied&state=x', 's')).toMatchObject({
      ok: false,
      final: false,
    })
    expect(checkCallbackUrl('http://127.0.0.1:1/cb?error=access_denied&error_description=no&state=s', 's')).toEqual({
      ok: false,
      final: true,
      message: 'The sign-in was not completed: access_denied (no).',
    })
    expect(checkCallbackUrl('kiro://x/y?state=s', 's')).toMatchObject({
      ok: false,
      final: false,
      message: expect.stringMatching(/no authorization code/),
    })
  })
})

describe('qwenApiBaseUrl', () => {
  it.each([
    ['portal.qwen.ai', undefined, 'https://portal.qwen.ai/v1'],
    ['https://portal.qwen.ai/v1/', undefined, 'https://portal.qwen.ai/v1'],
    ['http://127.0.0.1:9', undefined, 'http://127.0.0.1:9/v1'],
    [null, undefined, 'https://dashscope.aliyuncs.com/compatible-mode/v1'],
    ['portal.qwen.ai', 'http://proxy/v1/', 'http://proxy/v1'],
  ])('%s (explicit %s) → %s', (resource, explicit, expected) => {
    expect(qwenApiBaseUrl(resource, explicit)).toBe(expected)
  })
})

describe('kiroAuthMethod', () => {
  it.each([
    [{authMethod: 'social'}, 'social'],
    [{authMethod: 'IdC'}, 'idc'],
    [{authMethod: 'builder-id'}, 'idc'],
    [{clientId: 'a', clientSecret: 'b'}, 'idc'],
    [{clientIdHash: 'h'}, 'idc'],
    [{}, 'social'],
  ])('%j → %s', (content, method) => {
    expect(kiroAuthMethod(content)).toBe(method)
  })
})

describe('addLoginToPool', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aiclient-pool-login-'))
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('creates the pool file, names new instances after a unique account, and updates by credential path', async () => {
    const store = new PoolStore(join(dir, 'provider_pools.json'))
    let n = 0
    const uuid = () => `uuid-${++n}`
    const first = await addLoginToPool(
      store,
      {provider: 'gemini', credsFile: join(dir, 'a.json'), account: 'me@x.com', projectId: 'p1'},
      uuid,
    )
    const second = await addLoginToPool(
      store,
      {provider: 'gemini', credsFile: join(dir, 'b.json'), account: 'me@x.com', projectId: 'p2'},
      uuid,
    )
    const again = await addLoginToPool(
      store,
      {provider: 'gemini', credsFile: join(dir, 'a.json'), account: 'me@x.com', projectId: 'p3'},
      uuid,
    )
    expect([first, second, again]).toEqual([
      {uuid: 'uuid-1', created: true},
      {uuid: 'uuid-2', created: true},
      {uuid: 'uuid-1', created: false},
    ])
    const doc = JSON.parse(await readFile(store.file, 'utf8'))
    expect(doc['gemini-cli-oauth']).toEqual([
      {
        GEMINI_OAUTH_CREDS_FILE_PATH: join(dir, 'a.json'),
        PROJECT_ID: 'p3',
        customName: 'me@x.com',
        checkModelName: null,
        uuid: 'uuid-1',
        isHealthy: true,
        lastUsed: null,
        usageCount: 0,
        errorCount: 0,
        lastErrorTime: null,
      },
      {
        GEMINI_OAUTH_CREDS_FILE_PATH: join(dir, 'b.json'),
        PROJECT_ID: 'p2',
        checkModelName: null,
        uuid: 'uuid-2',
        isHealthy: true,
        lastUsed: null,
        usageCount: 0,
        errorCount: 0,
        lastErrorTime: null,
      },
    ])
  })
})

describe('resolveEndpoints', () => {
  it('defaults to the public services', () => {
    const e = resolveEndpoints({})
    expect(e).toEqual({
      QWEN_OAUTH_BASE_URL: 'https://chat.qwen.ai',
      QWEN_BASE_URL: null,
      GEMINI_BASE_URL: 'https://cloudcode-pa.googleapis.com',
      GOOGLE_AUTH_URL: 'https://accounts.google.com/o/oauth2/v2/auth',
      GOOGLE_TOKEN_URL: 'https://oauth2.googleapis.com/token',
      GOOGLE_USERINFO_URL: 'https://www.googleapis.com/oauth2/v2/userinfo',
      KIRO_AUTH_SERVICE_URL: 'https://prod.us-east-1.auth.desktop.kiro.dev',
      AWS_SSO_OIDC_URL: 'https://oidc.{region}.amazonaws.com',
      KIRO_BASE_URL: 'https://q.{region}.amazonaws.com',
      KIRO_REFRESH_URL: 'https://prod.{region}.auth.desktop.kiro.dev/refreshToken',
      KIRO_REFRESH_IDC_URL: 'https://oidc.{region}.amazonaws.com/token',
      KIRO_PROFILE_URL: 'https://codewhisperer.us-east-1.amazonaws.com/',
    })
    expect(withRegion(e.KIRO_REFRESH_IDC_URL, 'eu-west-1')).toBe('https://oidc.eu-west-1.amazonaws.com/token')
  })

  it('takes AICLIENT_ variables, and moves the refresh URLs with an overridden origin', () => {
    const e = resolveEndpoints({
      AICLIENT_QWEN_OAUTH_BASE_URL: 'http://127.0.0.1:1/',
      AICLIENT_KIRO_AUTH_SERVICE_URL: 'http://127.0.0.1:2',
      AICLIENT_AWS_SSO_OIDC_URL: 'http://127.0.0.1:3',
      AICLIENT_QWEN_BASE_URL: 'http://127.0.0.1:4/v1',
    })
    expect(e).toMatchObject({
      QWEN_OAUTH_BASE_URL: 'http://127.0.0.1:1',
      QWEN_BASE_URL: 'http://127.0.0.1:4/v1',
      KIRO_REFRESH_URL: 'http://127.0.0.1:2/refreshToken',
      KIRO_REFRESH_IDC_URL: 'http://127.0.0.1:3/token',
    })
    expect(
      resolveEndpoints({AICLIENT_KIRO_AUTH_SERVICE_URL: 'http://a', AICLIENT_KIRO_REFRESH_URL: 'http://b/r'})
        .KIRO_REFRESH_URL,
    ).toBe('http://b/r')
  })

  it("lets an instance's own URL fields win over the environment, and only those", () => {
    const e = resolveEndpoints(
      {AICLIENT_QWEN_OAUTH_BASE_URL: 'http://env', AICLIENT_GOOGLE_TOKEN_URL: 'http://env/token'},
      {
        QWEN_OAUTH_BASE_URL: 'http://instance',
        GOOGLE_TOKEN_URL: 'http://ignored',
        KIRO_REFRESH_IDC_URL: 'http://instance/idc',
      },
    )
    expect(e).toMatchObject({
      QWEN_OAUTH_BASE_URL: 'http://instance',
      GOOGLE_TOKEN_URL: 'http://env/token',
      KIRO_REFRESH_IDC_URL: 'http://instance/idc',
    })
  })

  it('names the variable that holds a bad URL', () => {
    expect(() => resolveEndpoints({AICLIENT_GOOGLE_TOKEN_URL: 'oauth2.googleapis.com'})).toThrow(
      'AICLIENT_GOOGLE_TOKEN_URL="oauth2.googleapis.com" is not an http(s) URL.',
    )
  })
})
