import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {post} from '../helpers/proxy.js'
import {startServeProcess, type ServeProcess} from '../helpers/serve-process.js'

// A pool file and a config.json as AIClient-2-API writes them: two-space JSON, its bookkeeping fields on every
// entry, its own config keys next to the routing ones both tools read, and a provider type only it knows.
let dir: string
let cleanup: () => Promise<void>
let fakes: FakeUpstream[] = []
let serve: ServeProcess | undefined

beforeEach(async () => ({dir, cleanup} = await tempDir()))
afterEach(async () => {
  await serve?.stop()
  serve = undefined
  await Promise.all(fakes.map((fake) => fake.close()))
  fakes = []
  await cleanup()
})

function entry(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    customName: name,
    uuid: `${name}-0000-4000-8000-000000000000`,
    checkModelName: 'gpt-4o-mini',
    checkHealth: false,
    isHealthy: true,
    isDisabled: false,
    lastUsed: null,
    usageCount: 0,
    errorCount: 0,
    lastErrorTime: null,
    lastHealthCheckTime: null,
    lastHealthCheckModel: null,
    lastErrorMessage: null,
    ...fields,
  }
}

it('routes by the fields and config.json keys AIClient-2-API wrote, and writes back every one of them', async () => {
  const [paid, subA, subB] = await Promise.all(['paid', 'sub-a', 'sub-b'].map((name) => startOpenAIFake({name})))
  const claude = await startAnthropicFake({name: 'claude'})
  fakes = [paid!, subA!, subB!, claude]
  const openai = (fake: FakeUpstream, name: string, fields: Record<string, unknown>) =>
    entry(name, {OPENAI_API_KEY: `sk-${name}-0123456789abcdef`, OPENAI_BASE_URL: fake.baseUrl, ...fields})
  // Anthropic-named models never reach the OpenAI accounts by the chain; the mapping renames them first.
  const notClaude = {notSupportedModels: ['claude-*']}
  const pool = {
    'openai-custom': [
      openai(paid!, 'paid', {priority: 0, ...notClaude}),
      openai(subA!, 'sub-a', {priority: 10, weight: 3, concurrencyLimit: 4, queueLimit: 8, ...notClaude}),
      openai(subB!, 'sub-b', {
        priority: 10,
        weight: 1,
        concurrencyLimit: 2,
        queueLimit: 2,
        notSupportedModels: ['claude-*', 'm-only-a'],
      }),
    ],
    'claude-custom': [
      entry('claude', {
        CLAUDE_API_KEY: 'sk-ant-claude-0123456789',
        CLAUDE_BASE_URL: claude.baseUrl,
        isDisabled: true,
      }),
    ],
    'gemini-antigravity': [entry('antigravity', {ANTIGRAVITY_OAUTH_CREDS_FILE_PATH: './antigravity.json'})],
  }
  const config = {
    REQUIRED_API_KEY: 'client-key-0123456789',
    SERVER_PORT: 3000,
    HOST: '127.0.0.1',
    MODEL_PROVIDER: 'openai-custom',
    PROVIDER_POOLS_FILE_PATH: 'provider_pools.json',
    SYSTEM_PROMPT_FILE_PATH: 'configs/input_system_prompt.txt',
    SYSTEM_PROMPT_MODE: 'overwrite',
    PROMPT_LOG_MODE: 'none',
    REQUEST_MAX_RETRIES: 3,
    REQUEST_BASE_DELAY: 1000,
    CRON_NEAR_MINUTES: 15,
    CRON_REFRESH_TOKEN: true,
    ROUTING_STRATEGY: {'openai-custom': 'weighted', default: 'round-robin'},
    SESSION_AFFINITY: true,
    providerFallbackChain: {'claude-custom': ['openai-custom'], 'gemini-antigravity': ['claude-custom']},
    modelFallbackMapping: {'claude-opus-5-5': {targetProviderType: 'openai-custom', targetModel: 'gpt-mapped'}},
  }
  serve = await startServeProcess(dir, pool, config)
  const poolsFile = join(dir, 'provider_pools.json')
  const auth = {authorization: `Bearer ${config.REQUIRED_API_KEY}`}
  const chat = (model: string) =>
    post(`${serve!.url}/v1/chat/completions`, {model, messages: [{role: 'user', content: 'hi'}]}, auth)

  // weight 3:1 within the top tier; the lower tier is never used while it serves.
  for (let i = 0; i < 40; i++) expect((await chat('m')).status).toBe(200)
  expect([subA!.count, subB!.count, paid!.count]).toEqual([30, 10, 0])
  // notSupportedModels keeps sub-b out.
  for (let i = 0; i < 4; i++) expect((await chat('m-only-a')).status).toBe(200)
  expect(subA!.count).toBe(34)

  // The only claude-custom instance is disabled: the chain serves its Anthropic clients from openai-custom.
  const messages = (model: string) =>
    post(
      `${serve!.url}/claude-custom/v1/messages`,
      {model, max_tokens: 16, messages: [{role: 'user', content: 'hi'}]},
      auth,
    )
  const chained = await messages('sonnet-x')
  expect(chained.status).toBe(200)
  expect(chained.json().type).toBe('message')
  // Every OpenAI account refuses claude-*: the chain has nobody, the model mapping renames it.
  const mapped = await messages('claude-opus-5-5')
  expect(mapped.status).toBe(200)
  const upstreamModels = [...paid!.requests, ...subA!.requests, ...subB!.requests].map(
    (r) => (r.body as {model?: string}).model,
  )
  expect(upstreamModels).toContain('sonnet-x')
  expect(upstreamModels).toContain('gpt-mapped')
  expect(upstreamModels).not.toContain('claude-opus-5-5')
  expect(claude.count).toBe(0)
  expect(serve.output()).toMatch(/claude-custom→openai-custom/)
  expect(serve.output()).toMatch(/gemini-antigravity/)

  expect(await serve.stop()).toBe(0)
  serve = undefined
  // config.json names the pool file, so the CLI finds it from the same directory as AIClient-2-API would.
  const set = await runCli(['pool', 'set', 'sub-b', '--priority', '5'], {cwd: dir})
  expect(set.stderr).toBe('')
  expect(set.code).toBe(0)

  const written = JSON.parse(await readFile(poolsFile, 'utf8')) as typeof pool
  expect(Object.keys(written)).toEqual(Object.keys(pool))
  expect(written['gemini-antigravity']).toEqual(pool['gemini-antigravity'])
  expect(written['claude-custom']).toEqual(pool['claude-custom'])
  const counters = new Set(['usageCount', 'lastUsed'])
  for (const [n, before] of pool['openai-custom'].entries()) {
    const after = written['openai-custom'][n]!
    for (const [key, value] of Object.entries(before)) {
      if (counters.has(key)) continue
      expect(after[key], `${String(before.customName)}.${key}`).toEqual(key === 'priority' && n === 2 ? 5 : value)
    }
  }
  const served = written['openai-custom'].map((i) => i.usageCount as number)
  expect(served[0]).toBe(0)
  expect(served[1]! + served[2]!).toBe(46)
  expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual(config)
}, 30_000)
