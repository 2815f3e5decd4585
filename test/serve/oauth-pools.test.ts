import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {
  codeAssistFailure,
  startAnthropicFake,
  startOpenAIFake,
  type FakeUpstream,
  type KiroFakeUpstream,
} from '../fakes/index.js'
import {runChecks} from '../../src/core/health/check.js'
import {Dispatchers} from '../../src/core/http/dispatchers.js'
import {PoolStore} from '../../src/core/pools/store.js'
import {createAdapters} from '../../src/core/providers/index.js'
import {runCli} from '../helpers/cli.js'
import {
  TIME,
  WEATHER,
  anthropicToolConversation,
  geminiToolConversation,
  openaiToolConversation,
} from '../helpers/conversations.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, openaiInstance, post, startTestProxy, waitFor, type TestProxy} from '../helpers/proxy.js'

let up: OAuthUpstreams
let dir: string
let qwenAuth: OAuthUpstreams['qwenAuth']
let googleAuth: OAuthUpstreams['googleAuth']
let portal: FakeUpstream
let codeAssist: FakeUpstream
let kiro: KiroFakeUpstream
let googleTokens: OAuthUpstreams['googleTokens']
let files: OAuthUpstreams['files']

beforeAll(async () => {
  up = await startOAuthUpstreams()
  ;({dir, qwenAuth, googleAuth, portal, codeAssist, kiro, googleTokens, files} = up)
})

afterAll(async () => up.close())

function oauthPool(): Record<string, unknown> {
  return up.pool()
}

const TYPES = ['openai-qwen-oauth', 'gemini-cli-oauth', 'claude-kiro-oauth'] as const

describe('serving the OAuth pools with the official SDKs: a tool-use round trip', () => {
  let proxy: TestProxy
  beforeAll(async () => {
    proxy = await startTestProxy(oauthPool())
  })
  afterAll(async () => proxy.cleanup())

  for (const type of TYPES) {
    for (const stream of [false, true]) {
      const conversation = () => ({
        base: `${proxy.url}/${type}`,
        stream,
        tools: [WEATHER, TIME],
        calls: [['get_weather', {city: 'fake-city'}]] as Array<[string, Record<string, unknown>]>,
        results: {get_weather: '21°C'},
        ...(type === 'openai-qwen-oauth' ? {model: 'qwen3-coder-plus'} : {}),
      })
      it(`${type}: openai SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
        await openaiToolConversation(conversation())
      })
      it(`${type}: anthropic SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
        await anthropicToolConversation(conversation())
      })
      it(`${type}: @google/genai SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
        await geminiToolConversation(conversation())
      })
    }
  }

  it('discovered the Code Assist project once and kept it in the pool entry', async () => {
    await waitFor(
      async () => (await proxy.readPool())['gemini-cli-oauth']![0]!.PROJECT_ID === 'fake-project-123',
      3000,
      'the project',
    )
    expect(codeAssist.calls('loadCodeAssist')).toHaveLength(1)
    expect(
      codeAssist.requests
        .filter((r) => r.route !== 'loadCodeAssist')
        .every((r) => r.body.project === 'fake-project-123'),
    ).toBe(true)
  })

  it('sent the qwen-code headers to the portal and the Kiro body through genuine event-stream frames', () => {
    expect(portal.completed).toBeGreaterThan(0)
    expect(kiro.completed).toBeGreaterThan(0)
  })
})

describe('tokens', () => {
  it('an expired token is refreshed before the request, the file updated with unknown fields kept', async () => {
    const file = join(dir, 'qwen-expired.json')
    const tokens = qwenAuth.issueTokens()
    await writeFile(
      file,
      JSON.stringify({
        ...tokens,
        token_type: 'Bearer',
        resource_url: portal.url,
        expiry_date: Date.now() - 60_000,
        keep: 'me',
      }),
    )
    const proxy = await startTestProxy({'openai-qwen-oauth': [{QWEN_OAUTH_CREDS_FILE_PATH: file, uuid: 'q-expired'}]})
    try {
      const before = qwenAuth.refreshCount
      const response = await post(`${proxy.url}/v1/chat/completions`, {
        model: 'qwen3-coder-plus',
        messages: [{role: 'user', content: 'hi'}],
      })
      expect(response.status, response.text).toBe(200)
      expect(qwenAuth.refreshCount).toBe(before + 1)
      const stored = JSON.parse(await readFile(file, 'utf8'))
      expect(stored.keep).toBe('me')
      expect(stored.access_token).not.toBe(tokens.access_token)
      expect(stored.refresh_token).toBe(tokens.refresh_token)
      expect(stored.expiry_date).toBeGreaterThan(Date.now())
    } finally {
      await proxy.cleanup()
    }
  })

  it('a 401 refreshes once and retries the same instance', async () => {
    const file = join(dir, 'gemini-401.json')
    const tokens = googleAuth.issueTokens()
    googleTokens.revoked.add(tokens.access_token)
    await writeFile(file, JSON.stringify({...tokens, token_type: 'Bearer', expiry_date: Date.now() + 3_600_000}))
    const proxy = await startTestProxy({
      'gemini-cli-oauth': [
        {
          GEMINI_OAUTH_CREDS_FILE_PATH: file,
          PROJECT_ID: 'fake-project-123',
          GEMINI_BASE_URL: codeAssist.url,
          uuid: 'g-401',
        },
      ],
    })
    try {
      const before = googleAuth.refreshCount
      const response = await post(`${proxy.url}/v1/chat/completions`, {
        model: 'gemini-2.5-flash',
        messages: [{role: 'user', content: 'hi'}],
      })
      expect(response.status).toBe(200)
      expect(googleAuth.refreshCount).toBe(before + 1)
      expect(proxy.state.list('gemini-cli-oauth')[0]).toMatchObject({healthy: true, errorCount: 0, usageCount: 1})
    } finally {
      await proxy.cleanup()
    }
  })

  it('a refresh the server rejects marks the instance "re-login needed" and keeps the file', async () => {
    const file = join(dir, 'qwen-revoked.json')
    const tokens = qwenAuth.issueTokens()
    qwenAuth.revoke(tokens.refresh_token)
    const content = JSON.stringify({
      ...tokens,
      token_type: 'Bearer',
      resource_url: portal.url,
      expiry_date: Date.now() - 1000,
    })
    await writeFile(file, content)
    const proxy = await startTestProxy({'openai-qwen-oauth': [{QWEN_OAUTH_CREDS_FILE_PATH: file, uuid: 'q-revoked'}]})
    try {
      const response = await post(`${proxy.url}/v1/chat/completions`, {
        model: 'qwen3-coder-plus',
        messages: [{role: 'user', content: 'hi'}],
      })
      expect(response.status).toBe(502)
      expect(response.json().error.message).toMatch(/re-login needed: aiclient auth login qwen/)
      const live = proxy.state.list('openai-qwen-oauth')[0]!
      expect(live.healthy).toBe(false)
      expect(live.reason).toMatch(/^re-login needed: aiclient auth login qwen --output .*qwen-revoked\.json$/)
      expect(await readFile(file, 'utf8')).toBe(content)
    } finally {
      await proxy.cleanup()
    }
  })

  it('a Code Assist 429 with a retry delay cools the instance until then', async () => {
    const proxy = await startTestProxy({
      'gemini-cli-oauth': [
        {
          GEMINI_OAUTH_CREDS_FILE_PATH: files.gemini,
          PROJECT_ID: 'fake-project-123',
          GEMINI_BASE_URL: codeAssist.url,
          uuid: 'g-429',
        },
      ],
    })
    try {
      codeAssist.enqueue(codeAssistFailure({kind: 'rate-limited', retryDelay: '42.5s'}))
      const response = await post(`${proxy.url}/v1/messages`, {
        model: 'gemini-2.5-flash',
        max_tokens: 10,
        messages: [{role: 'user', content: 'hi'}],
      })
      expect(response.status).toBe(429)
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(42)
      const live = proxy.state.list('gemini-cli-oauth')[0]!
      expect(live.cooldownUntil - Date.now()).toBeGreaterThan(40_000)
      expect(live.cooldownReason).toMatch(/rate limited/)
    } finally {
      await proxy.cleanup()
    }
  })
})

describe('Kiro stream damage', () => {
  for (const [name, behaviour] of [
    ['a frame with a bad CRC', {kind: 'corrupt', afterFrames: 2}],
    ['a truncated stream', {kind: 'truncate', afterFrames: 2}],
  ] as const) {
    it(`${name}: a protocol-shaped error to the client, the failure counted, no crash`, async () => {
      const proxy = await startTestProxy(
        {
          'claude-kiro-oauth': [
            {KIRO_OAUTH_CREDS_FILE_PATH: files.kiro, KIRO_BASE_URL: kiro.url, uuid: `k-${name.length}`},
          ],
        },
        {maxAttempts: 1},
      )
      try {
        kiro.enqueue(behaviour as never)
        const streamed = await post(`${proxy.url}/v1/messages`, {
          model: 'claude-sonnet-4-6',
          max_tokens: 50,
          stream: true,
          messages: [{role: 'user', content: 'hello there'}],
        })
        expect(streamed.status).toBe(200)
        expect(streamed.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"\w+","message":"[^"]+"/)
        expect(streamed.text).not.toContain('message_stop')
        kiro.enqueue(behaviour as never)
        const plain = await post(`${proxy.url}/v1/messages`, {
          model: 'claude-sonnet-4-6',
          max_tokens: 50,
          messages: [{role: 'user', content: 'hello there'}],
        })
        expect(plain.status).toBe(502)
        expect(plain.json()).toMatchObject({type: 'error', error: {type: 'api_error'}})
        expect(proxy.state.list('claude-kiro-oauth')[0]!.errorCount).toBe(2)
        expect(
          (
            await post(`${proxy.url}/v1/messages`, {
              model: 'claude-sonnet-4-6',
              max_tokens: 50,
              messages: [{role: 'user', content: 'hello'}],
            })
          ).status,
        ).toBe(200)
      } finally {
        await proxy.cleanup()
      }
    })
  }
})

describe('one pool holding all five types', () => {
  it('routes by path prefix and Model-Provider, serves a mixed load, and counts per instance', async () => {
    const openai = await startOpenAIFake({name: 'oa'})
    const anthropic = await startAnthropicFake({name: 'an'})
    const proxy = await startTestProxy({
      ...oauthPool(),
      'openai-custom': [openaiInstance(openai, 'oa')],
      'claude-custom': [claudeInstance(anthropic, 'an')],
    })
    // Model calls answered in full; Code Assist's project lookup is not one.
    const served = (fake: {requests: ReadonlyArray<{route: string; outcome: string}>}) =>
      fake.requests.filter((r) => r.outcome === 'completed' && !/loadCodeAssist|onboardUser/.test(r.route)).length
    const before = {qwen: served(portal), gemini: served(codeAssist), kiro: served(kiro)}
    try {
      const plan: Array<[string, Record<string, string>, string]> = []
      const models: Record<string, string> = {
        'openai-qwen-oauth': 'qwen3-coder-plus',
        'gemini-cli-oauth': 'gemini-2.5-flash',
        'claude-kiro-oauth': 'claude-sonnet-4-6',
        'openai-custom': 'gpt-4o-mini',
        'claude-custom': 'claude-sonnet-4-6',
      }
      for (let i = 0; i < 30; i++) {
        const type = Object.keys(models)[i % 5]!
        const byHeader = i % 2 === 0
        const route = ['/v1/chat/completions', '/v1/messages'][i % 3 === 0 ? 1 : 0]!
        plan.push([byHeader ? route : `/${type}${route}`, byHeader ? {'model-provider': type} : {}, type])
      }
      const results = await Promise.all(
        plan.map(([path, headers, type]) =>
          post(
            `${proxy.url}${path}`,
            {
              model: models[type],
              max_tokens: 20,
              stream: path.length % 2 === 0,
              messages: [{role: 'user', content: 'hi'}],
            },
            headers,
          ),
        ),
      )
      expect(results.map((r) => r.status)).toEqual(Array(30).fill(200))
      await proxy.stop()
      const pool = await proxy.readPool()
      const used = (type: string) => Number(pool[type]![0]!.usageCount)
      expect(used('openai-custom')).toBe(openai.completed)
      expect(used('claude-custom')).toBe(anthropic.completed)
      expect(used('openai-qwen-oauth')).toBe(served(portal) - before.qwen)
      expect(used('gemini-cli-oauth')).toBe(served(codeAssist) - before.gemini)
      expect(used('claude-kiro-oauth')).toBe(served(kiro) - before.kiro)
      for (const type of Object.keys(models)) expect(used(type), type).toBe(6)
    } finally {
      await proxy.cleanup()
      await openai.close()
      await anthropic.close()
    }
  })
})

describe('pool check and pool list for OAuth instances', () => {
  it('probes each with a one-token generation, or with --cheap only the token; list shows token expiry', async () => {
    const file = join(dir, 'check-pools.json')
    const doc = oauthPool() as Record<string, Array<Record<string, unknown>>>
    doc['gemini-cli-oauth']![0]!.PROJECT_ID = 'fake-project-123'
    await writeFile(file, JSON.stringify(doc))
    const store = new PoolStore(file)
    const dispatchers = new Dispatchers()
    try {
      const entries = await runChecks(store, createAdapters(dispatchers, store), {timeoutMs: 5000, concurrency: 3})
      expect(entries.map((e) => [e.type, e.state])).toEqual([
        ['gemini-cli-oauth', 'healthy'],
        ['claude-kiro-oauth', 'healthy'],
        ['openai-qwen-oauth', 'healthy'],
      ])
      // A cheap check spends no generation; it still reads the free quota endpoints (Kiro's, Code Assist's).
      const generations = () =>
        portal.calls('chat.completions').length +
        codeAssist.calls('generateContent').length +
        codeAssist.calls('streamGenerateContent').length +
        kiro.calls('generateAssistantResponse').length
      const calls = generations()
      const cheap = await runChecks(store, createAdapters(dispatchers, store), {
        timeoutMs: 5000,
        concurrency: 3,
        cheap: true,
      })
      expect(cheap.every((e) => e.healthy)).toBe(true)
      expect(generations()).toBe(calls)
      expect(cheap.map((e) => e.quota?.source ?? null)).toEqual(['user-quota', 'usage-limits', null])
    } finally {
      await dispatchers.destroy()
    }
    const listed = await runCli(['pool', 'list', '--json', '--pools-file', file], {cwd: dir})
    const tokens = JSON.parse(listed.stdout).map((i: {token: {state: string; expiresAt: string}}) => i.token)
    expect(tokens.map((t: {state: string}) => t.state)).toEqual(['valid', 'valid', 'valid'])
    expect(Date.parse(tokens[0].expiresAt)).toBeGreaterThan(Date.now())
    const table = await runCli(['pool', 'list', '--pools-file', file], {cwd: dir})
    expect(table.stdout).toMatch(/TOKEN/)
    expect(table.stdout).toMatch(/valid until \d\d:\d\dZ \(in (59|60)m\)/)
  })
})
