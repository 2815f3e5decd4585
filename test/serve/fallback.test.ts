import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {formatRecord} from '../../src/core/log.js'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let up: OAuthUpstreams
let claude: FakeUpstream
let openai: FakeUpstream
let proxy: TestProxy | undefined

beforeAll(async () => {
  up = await startOAuthUpstreams()
  claude = await startAnthropicFake({name: 'claude'})
  openai = await startOpenAIFake({name: 'openai'})
})

afterEach(async () => {
  await proxy?.cleanup()
  proxy = undefined
  for (const fake of [up.kiro, up.codeAssist, claude, openai]) fake.reset()
})

afterAll(async () => {
  await Promise.all([claude.close(), openai.close()])
  await up.close()
})

const MODEL = 'claude-sonnet-4-6'
const CHAIN = {'claude-kiro-oauth': ['claude-custom', 'openai-custom']}

/** Two Kiro accounts, a Claude key, an OpenAI-compatible key and a Code Assist login. */
async function serve(config: Record<string, unknown>): Promise<TestProxy> {
  const [kiro] = up.pool()['claude-kiro-oauth'] as Array<Record<string, unknown>>
  proxy = await startTestProxy(
    {
      'claude-kiro-oauth': [
        {...kiro, customName: 'kiro-a', uuid: 'k-uuid-000a'},
        {...kiro, customName: 'kiro-b', uuid: 'k-uuid-000b'},
      ],
      'claude-custom': [claudeInstance(claude, 'team')],
      'openai-custom': [openaiInstance(openai, 'backup')],
      'gemini-cli-oauth': up.pool()['gemini-cli-oauth'],
    },
    {config},
  )
  return proxy
}

/** An Anthropic client asking for Kiro by its type prefix. */
async function ask(p: TestProxy, stream = false) {
  return post(
    `${p.url}/claude-kiro-oauth/v1/messages`,
    {model: MODEL, max_tokens: 50, stream, messages: [{role: 'user', content: 'hello there'}]},
    {'x-api-key': 'unused', 'anthropic-version': '2023-06-01'},
  )
}

/** Every Kiro account rate-limited. */
function kiroOut(): void {
  up.kiro.enqueue({kind: 'status', status: 429, retryAfter: 60}, {kind: 'status', status: 429, retryAfter: 60})
}

describe('providerFallbackChain', () => {
  it('is not used while the requested type can serve', async () => {
    const p = await serve({providerFallbackChain: CHAIN})
    const answer = await ask(p)
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({type: 'message', role: 'assistant'})
    expect([up.kiro.completed, claude.count, openai.count]).toEqual([1, 0, 0])
    const [record] = p.records
    expect(record).toMatchObject({type: 'claude-kiro-oauth', status: 200})
    expect(record).not.toHaveProperty('fallbackFrom')
    expect(formatRecord(record!)).not.toContain('→')
  })

  it('serves a Kiro request from claude-custom when every Kiro account is rate-limited, and says so', async () => {
    const p = await serve({providerFallbackChain: CHAIN})
    kiroOut()
    const answer = await ask(p)
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({type: 'message', role: 'assistant'})
    expect(up.kiro.count).toBe(2)
    expect(claude.calls('messages').map((r) => r.body.model)).toEqual([MODEL])
    expect(openai.count).toBe(0)
    const [record] = p.records
    expect(record).toMatchObject({
      type: 'claude-custom',
      fallbackFrom: 'claude-kiro-oauth',
      instance: 'team',
      attempts: 3,
      status: 200,
    })
    expect(formatRecord(record!)).toContain(' claude-kiro-oauth→claude-custom team 200 ')
    // The Kiro accounts now rest: the next request goes straight to the fallback.
    expect((await ask(p, true)).status).toBe(200)
    expect([up.kiro.count, claude.completed]).toEqual([2, 2])
  })

  it('goes on to openai-custom, converted and under its MODEL_ALIASES, when claude-custom is out too', async () => {
    const p = await serve({
      providerFallbackChain: CHAIN,
      MODEL_ALIASES: {'openai-custom': {[MODEL]: 'gpt-5.5'}},
    })
    kiroOut()
    claude.enqueue({kind: 'status', status: 429, retryAfter: 60})
    const answer = await ask(p)
    expect(answer.status).toBe(200)
    // The OpenAI answer reaches the Anthropic client in its own protocol, under the model it asked for.
    expect(answer.json()).toMatchObject({type: 'message', role: 'assistant', model: MODEL})
    const [sent] = openai.calls('chat.completions')
    expect(sent!.body).toMatchObject({model: 'gpt-5.5', messages: [{role: 'user', content: 'hello there'}]})
    expect(p.records[0]).toMatchObject({
      type: 'openai-custom',
      fallbackFrom: 'claude-kiro-oauth',
      instance: 'backup',
      upstreamModel: 'gpt-5.5',
    })
    expect(formatRecord(p.records[0]!)).toContain(' claude-kiro-oauth→openai-custom backup 200 ')
  })

  it('when every fallback is out too, the 429 says what each had and retries when the first one is back', async () => {
    const p = await serve({providerFallbackChain: CHAIN})
    kiroOut()
    claude.enqueue({kind: 'status', status: 429, retryAfter: 30})
    openai.enqueue({kind: 'status', status: 429, retryAfter: 10})
    const answer = await ask(p)
    expect(answer.status).toBe(429)
    expect(answer.headers['retry-after']).toBe('10')
    expect(answer.json().error.message).toBe(
      'All claude-kiro-oauth instances are cooling down after rate limits (fallbacks claude-custom: 1 cooling; openai-custom: 1 cooling); retry in 10s.',
    )
  })

  it('answers the Kiro 429 when no fallback is configured', async () => {
    const p = await serve({})
    kiroOut()
    expect((await ask(p)).status).toBe(429)
    expect([claude.count, openai.count]).toEqual([0, 0])
  })
})

describe('modelFallbackMapping', () => {
  it('sends the target model to the target type when the requested type cannot serve that model', async () => {
    const p = await serve({
      modelFallbackMapping: {[MODEL]: {targetProviderType: 'gemini-cli-oauth', targetModel: 'gemini-2.5-pro'}},
    })
    kiroOut()
    const answer = await ask(p)
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({type: 'message', role: 'assistant', model: MODEL})
    const generated = up.codeAssist.requests.filter((r) => /generateContent/i.test(r.path))
    expect(generated.map((r) => r.body.model)).toEqual(['gemini-2.5-pro'])
    expect([claude.count, openai.count]).toEqual([0, 0])
    expect(p.records[0]).toMatchObject({
      type: 'gemini-cli-oauth',
      fallbackFrom: 'claude-kiro-oauth',
      upstreamModel: 'gemini-2.5-pro',
    })
    expect(formatRecord(p.records[0]!)).toContain(`claude-kiro-oauth→gemini-cli-oauth`)
    expect(formatRecord(p.records[0]!)).toContain(`model=${MODEL}→gemini-2.5-pro`)
  })
})
