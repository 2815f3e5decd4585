import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {formatRecord} from '../../src/core/log.js'
import {
  startAnthropicFake,
  startKiroFake,
  startOpenAIFake,
  type FakeUpstream,
  type KiroFakeUpstream,
} from '../fakes/index.js'
import {ROOT} from '../helpers/cli.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

/** Claude Code 2.1.335 with its default model, as captured (the retry that carries no mid-conversation system message). */
const CLAUDE_CODE = JSON.parse(
  await readFile(
    join(ROOT, 'test/fixtures/clients/claude-code-2.1.335-opus-retry-without-system-message.json'),
    'utf8',
  ),
) as {path: string; headers: Record<string, string>; body: Record<string, unknown>}
const CLIENT_MODEL = 'claude-opus-5-5'

/** Every `model` / `modelVersion` value of a plain answer or of each event of a stream. */
function modelsIn(text: string): string[] {
  const found: string[] = []
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return
    for (const [key, inner] of Object.entries(value)) {
      if ((key === 'model' || key === 'modelVersion') && typeof inner === 'string') found.push(inner)
      else visit(inner)
    }
  }
  const lines = text.startsWith('{') ? [text] : text.split('\n').filter((l) => l.startsWith('data:'))
  for (const line of lines) {
    const json = line.replace(/^data:\s*/, '')
    if (json !== '[DONE]') visit(JSON.parse(json))
  }
  return found
}

function claudeCode(stream: boolean): {body: Record<string, unknown>; headers: Record<string, string>} {
  // The transport's own headers are undici's to set.
  const {
    host: _host,
    accept: _accept,
    'content-type': _type,
    'content-length': _length,
    ...headers
  } = CLAUDE_CODE.headers
  return {
    body: {...CLAUDE_CODE.body, stream},
    headers: {...headers, 'x-api-key': 'unused', 'anthropic-version': '2023-06-01'},
  }
}

describe('Claude Code with its default model through Kiro', () => {
  let up: OAuthUpstreams
  let kiro: KiroFakeUpstream
  beforeAll(async () => {
    up = await startOAuthUpstreams()
    // Kiro refuses every model id it does not have, as the real one does (400 INVALID_MODEL_ID).
    kiro = await startKiroFake({models: ['claude-opus-4.8', 'claude-sonnet-4.6', 'claude-haiku-4.5']})
  })
  afterAll(async () => {
    await kiro.close()
    await up.close()
  })

  const kiroEntry = (extra: Record<string, unknown> = {}) => ({
    KIRO_OAUTH_CREDS_FILE_PATH: up.files.kiro,
    KIRO_BASE_URL: kiro.url,
    customName: 'kiro',
    uuid: 'k-uuid-0001',
    ...extra,
  })

  async function send(proxy: TestProxy, stream: boolean) {
    const {body, headers} = claudeCode(stream)
    const response = await post(`${proxy.url}/claude-kiro-oauth/v1/messages?beta=true`, body, headers)
    expect(response.status, response.text).toBe(200)
    return response
  }

  const sentModels = () => kiro.requests.map((r) => r.model)

  it('MODEL_ALIASES renames the model for Kiro; the client sees its own name, the log both', async () => {
    const proxy = await startTestProxy(
      {'claude-kiro-oauth': [kiroEntry()]},
      {config: {MODEL_ALIASES: {'claude-kiro-oauth': {'claude-opus-5-*': 'claude-sonnet-4-6', 'claude-*': 'x'}}}},
    )
    try {
      kiro.reset()
      for (const stream of [false, true]) {
        const answer = await send(proxy, stream)
        const models = modelsIn(answer.text)
        expect(models.length).toBeGreaterThan(0)
        expect(new Set(models)).toEqual(new Set([CLIENT_MODEL]))
      }
      expect(sentModels()).toEqual(['claude-sonnet-4.6', 'claude-sonnet-4.6'])
      expect(proxy.records.map((r) => [r.model, r.upstreamModel])).toEqual([
        [CLIENT_MODEL, 'claude-sonnet-4-6'],
        [CLIENT_MODEL, 'claude-sonnet-4-6'],
      ])
      expect(formatRecord(proxy.records[0]!)).toMatch(/ 200 \d+ms model=claude-opus-5-5→claude-sonnet-4-6$/)
    } finally {
      await proxy.cleanup()
    }
  })

  it('without an alias, an unknown Claude version goes to the newest model of its family, with a debug line', async () => {
    const debug: string[] = []
    const proxy = await startTestProxy({'claude-kiro-oauth': [kiroEntry()]}, {onDropped: (line) => debug.push(line)})
    try {
      kiro.reset()
      await send(proxy, true)
      await send(proxy, false)
      expect(sentModels()).toEqual(['claude-opus-4.8', 'claude-opus-4.8'])
      expect(debug).toContain('model name claude-opus-5-5 (unknown to Kiro; sent as claude-opus-4.8)')
      // Not an alias: the log shows the client's model alone.
      expect(proxy.records[0]!.upstreamModel).toBeUndefined()
    } finally {
      await proxy.cleanup()
    }
  })

  it("an instance's own modelAliases wins over the type's", async () => {
    const proxy = await startTestProxy(
      {'claude-kiro-oauth': [kiroEntry({modelAliases: {'claude-opus-*': 'claude-haiku-4-5'}})]},
      {config: {MODEL_ALIASES: {'claude-kiro-oauth': {'claude-opus-5-5': 'claude-sonnet-4-6'}}}},
    )
    try {
      kiro.reset()
      await send(proxy, false)
      expect(sentModels()).toEqual(['claude-haiku-4.5'])
      expect(proxy.records[0]!.upstreamModel).toBe('claude-haiku-4-5')
      // The store keeps the field as it was written.
      expect((await proxy.readPool())['claude-kiro-oauth']![0]!.modelAliases).toEqual({
        'claude-opus-*': 'claude-haiku-4-5',
      })
    } finally {
      await proxy.cleanup()
    }
  })

  it('/v1/models lists the alias names of the type and of its instances, not the patterns', async () => {
    const proxy = await startTestProxy(
      {'claude-kiro-oauth': [kiroEntry({modelAliases: {'my-fast': 'claude-haiku-4-5'}})]},
      {config: {MODEL_ALIASES: {'claude-kiro-oauth': {'claude-opus-5-5': 'claude-opus-4-8', 'claude-*': 'x'}}}},
    )
    try {
      const response = await get(`${proxy.url}/claude-kiro-oauth/v1/models`)
      const ids: string[] = response.json().data.map((m: {id: string}) => m.id)
      expect(ids).toEqual(expect.arrayContaining(['claude-opus-5-5', 'my-fast']))
      expect(ids).not.toContain('claude-*')
    } finally {
      await proxy.cleanup()
    }
  })
})

describe('answers name the client model in every protocol an alias is crossed in', () => {
  const fakes: FakeUpstream[] = []
  let proxy: TestProxy
  let openai: FakeUpstream
  let anthropic: FakeUpstream
  beforeAll(async () => {
    // Each fake refuses any other model: what reaches it is the alias target.
    openai = await startOpenAIFake({models: ['gpt-4o']})
    anthropic = await startAnthropicFake({models: ['claude-sonnet-4-6']})
    fakes.push(openai, anthropic)
    proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(openai, 'oa')], 'claude-custom': [claudeInstance(anthropic, 'cl')]},
      {
        config: {
          MODEL_ALIASES: {
            'openai-custom': {'claude-*': 'gpt-4o'},
            'claude-custom': {'claude-opus-5-*': 'claude-sonnet-4-6'},
          },
        },
      },
    )
  })
  afterAll(async () => {
    await proxy.cleanup()
    await Promise.all(fakes.map((f) => f.close()))
  })

  const openaiBody = (stream: boolean) => ({model: CLIENT_MODEL, stream, messages: [{role: 'user', content: 'hi'}]})
  const anthropicBody = (stream: boolean) => ({...openaiBody(stream), max_tokens: 64})

  for (const stream of [false, true]) {
    const kind = stream ? 'streamed' : 'plain'
    it(`openai → openai-custom (bytes passed through), ${kind}`, async () => {
      const answer = await post(`${proxy.url}/openai-custom/v1/chat/completions`, openaiBody(stream))
      expect(answer.status, answer.text).toBe(200)
      expect(new Set(modelsIn(answer.text))).toEqual(new Set([CLIENT_MODEL]))
      expect(openai.requests.at(-1)!.model).toBe('gpt-4o')
    })
    it(`anthropic → openai-custom (converted), ${kind}`, async () => {
      const answer = await post(`${proxy.url}/openai-custom/v1/messages`, anthropicBody(stream))
      expect(answer.status, answer.text).toBe(200)
      expect(new Set(modelsIn(answer.text))).toEqual(new Set([CLIENT_MODEL]))
      expect(openai.requests.at(-1)!.model).toBe('gpt-4o')
    })
    it(`anthropic → claude-custom (bytes passed through), ${kind}`, async () => {
      const answer = await post(`${proxy.url}/claude-custom/v1/messages`, anthropicBody(stream))
      expect(answer.status, answer.text).toBe(200)
      expect(new Set(modelsIn(answer.text))).toEqual(new Set([CLIENT_MODEL]))
      expect(anthropic.requests.at(-1)!.model).toBe('claude-sonnet-4-6')
    })
  }

  it("count_tokens asks the upstream for the alias's count", async () => {
    const answer = await post(`${proxy.url}/claude-custom/v1/messages/count_tokens`, {
      model: CLIENT_MODEL,
      messages: [{role: 'user', content: 'hi'}],
    })
    expect(answer.status, answer.text).toBe(200)
    expect(answer.headers['x-aiclient-token-count']).toBe('upstream')
    expect(anthropic.requests.at(-1)).toMatchObject({route: 'count_tokens', model: 'claude-sonnet-4-6'})
  })

  it('a name no alias matches passes through untouched, bytes and all', async () => {
    const answer = await post(`${proxy.url}/openai-custom/v1/chat/completions`, {...openaiBody(false), model: 'gpt-4o'})
    expect(answer.status, answer.text).toBe(200)
    expect(modelsIn(answer.text)).toEqual(['gpt-4o'])
    expect(proxy.records.at(-1)!.upstreamModel).toBeUndefined()
  })
})

describe('Gemini clients through Code Assist', () => {
  let up: OAuthUpstreams
  let codeAssist: FakeUpstream
  beforeAll(async () => {
    up = await startOAuthUpstreams()
    codeAssist = up.codeAssist
  })
  afterAll(async () => up.close())

  it('get modelVersion as they asked, plain and streamed, while Code Assist is sent the alias', async () => {
    const pool = up.pool() as Record<string, Array<Record<string, unknown>>>
    const proxy = await startTestProxy(
      {'gemini-cli-oauth': pool['gemini-cli-oauth']!},
      {config: {MODEL_ALIASES: {'gemini-cli-oauth': {'claude-*': 'gemini-2.5-pro'}}}},
    )
    try {
      const body = {contents: [{role: 'user', parts: [{text: 'hi'}]}]}
      for (const action of ['generateContent', 'streamGenerateContent?alt=sse']) {
        const answer = await post(`${proxy.url}/gemini-cli-oauth/v1beta/models/${CLIENT_MODEL}:${action}`, body)
        expect(answer.status, answer.text).toBe(200)
        expect(new Set(modelsIn(answer.text))).toEqual(new Set([CLIENT_MODEL]))
      }
      const sent = codeAssist.requests.filter((r) => r.route !== 'loadCodeAssist').map((r) => r.body.model)
      expect(sent).toEqual(['gemini-2.5-pro', 'gemini-2.5-pro'])
    } finally {
      await proxy.cleanup()
    }
  })
})
