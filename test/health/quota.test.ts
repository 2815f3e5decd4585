import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runChecks} from '../../src/core/health/check.js'
import {DEFAULT_MONITOR, HealthMonitor} from '../../src/core/health/monitor.js'
import {Dispatchers} from '../../src/core/http/dispatchers.js'
import {quotaOf} from '../../src/core/pools/live-instance.js'
import {DEFAULT_HEALTH_POLICY, PoolState} from '../../src/core/pools/pool-state.js'
import {PoolStore} from '../../src/core/pools/store.js'
import {createAdapters} from '../../src/core/providers/index.js'
import {
  startAnthropicFake,
  startCodeAssistFake,
  startKiroFake,
  startOpenAIFake,
  startQwenPortalFake,
  startResponsesFake,
  type AnthropicFakeOptions,
  type CodeAssistFakeOptions,
  type FakeUpstream,
  type KiroFakeOptions,
  type KiroFakeUpstream,
  type OpenAIFakeOptions,
} from '../fakes/index.js'
import {runCli} from '../helpers/cli.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, openaiInstance} from '../helpers/proxy.js'

// One fixed clock for the checks: every reset below is exact.
const NOW = Date.parse('2026-12-04T12:00:00Z')
const now = () => NOW
const at = (ms: number) => new Date(NOW + ms).toISOString()
const MIN = 60_000
const DAY = 86_400_000

let up: OAuthUpstreams
let fakes: Array<{close(): Promise<void>}>
const openaiOptions: OpenAIFakeOptions = {name: 'openai'}
const anthropicOptions: AnthropicFakeOptions = {name: 'anthropic'}
const kiroOptions: KiroFakeOptions = {name: 'kiro'}
const codeAssistOptions: CodeAssistFakeOptions = {name: 'gemini'}
let openai: FakeUpstream
let anthropic: FakeUpstream
let responses: FakeUpstream
let kiro: KiroFakeUpstream
let codeAssist: FakeUpstream
let portal: FakeUpstream
let qwenCreds: string
let file: string

beforeAll(async () => {
  up = await startOAuthUpstreams()
  codeAssistOptions.tokens = up.googleTokens
  codeAssistOptions.account = {currentTier: 'standard-tier', project: 'fake-project-123'}
  ;[openai, responses, anthropic, kiro, codeAssist, portal] = await Promise.all([
    startOpenAIFake(openaiOptions),
    startResponsesFake({name: 'responses', rateLimits: {tokens: {limit: 30_000, remaining: 0, reset: '20s'}}}),
    startAnthropicFake(anthropicOptions),
    startKiroFake(kiroOptions),
    startCodeAssistFake(codeAssistOptions),
    startQwenPortalFake({
      name: 'qwen',
      tokens: up.qwenTokens,
      requireDashScopeHeaders: true,
      rateLimits: {requests: {limit: 2000, remaining: 1240, reset: '3h12m0s'}},
    }),
  ])
  fakes = [openai, responses, anthropic, kiro, codeAssist, portal]
  // A Qwen account whose resource_url is the portal above.
  qwenCreds = join(up.dir, 'qwen-quota.json')
  await writeFile(
    qwenCreds,
    JSON.stringify({...up.qwenAuth.issueTokens(), resource_url: portal.url, expiry_date: Date.now() + 3_600_000}),
  )
  file = join(up.dir, 'quota-pools.json')
})

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()))
  await up.close()
})

/** One instance of every type, each at its quota-reporting fake. */
async function writePool(): Promise<PoolStore> {
  const doc = up.pool() as Record<string, Array<Record<string, unknown>>>
  doc['claude-kiro-oauth']![0]!.KIRO_BASE_URL = kiro.url
  Object.assign(doc['gemini-cli-oauth']![0]!, {GEMINI_BASE_URL: codeAssist.url, PROJECT_ID: 'fake-project-123'})
  doc['openai-qwen-oauth']![0]!.QWEN_OAUTH_CREDS_FILE_PATH = qwenCreds
  doc['openai-custom'] = [openaiInstance(openai, 'openai', 'sk-PLANTED-quota-0123456789')]
  doc['claude-custom'] = [claudeInstance(anthropic, 'anthropic', 'sk-ant-PLANTED-quota-0123')]
  doc['openaiResponses-custom'] = [openaiInstance(responses, 'responses', 'sk-PLANTED-responses-0123456789')]
  await writeFile(file, JSON.stringify(doc, null, 2))
  return new PoolStore(file)
}

async function check(store: PoolStore, timeoutMs = 5000) {
  const dispatchers = new Dispatchers()
  try {
    const entries = await runChecks(store, createAdapters(dispatchers, store), {timeoutMs, concurrency: 6, now})
    return Object.fromEntries(entries.map((e) => [e.type, e]))
  } finally {
    await dispatchers.destroy()
  }
}

async function entries(): Promise<Record<string, Record<string, unknown>>> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, Array<Record<string, unknown>>>
  return Object.fromEntries(Object.entries(doc).map(([type, list]) => [type, list[0]!]))
}

function setQuotas(exhausted: boolean): void {
  openaiOptions.rateLimits = {
    requests: {limit: 500, remaining: exhausted ? 0 : 310, reset: '3h12m0s'},
    tokens: {limit: 200_000, remaining: 190_000, reset: '1s'},
  }
  anthropicOptions.rateLimits = {
    requests: {limit: 50, remaining: 49, reset: at(MIN)},
    unified: {'5h': {utilization: exhausted ? 1 : 0.38, reset: (NOW + 192 * MIN) / 1000, status: 'allowed'}},
  }
  kiroOptions.usageLimits = {
    used: exhausted ? 50 : 19,
    limit: 50,
    nextDateReset: (NOW + 27 * DAY) / 1000,
    subscriptionTitle: 'KIRO FREE',
  }
  const bucket = (modelId: string, fraction: number) => ({
    remainingAmount: String(fraction * 1000),
    remainingFraction: fraction,
    resetTime: at(5 * 60 * MIN),
    tokenType: 'REQUESTS',
    modelId,
  })
  codeAssistOptions.quotaBuckets = exhausted
    ? [bucket('gemini-2.5-pro', 0), bucket('gemini-2.5-flash', 0)]
    : [bucket('gemini-2.5-pro', 0.62), bucket('gemini-2.5-flash', 0.9)]
}

describe('pool check records what each vendor says of the quota', () => {
  it('rate-limit headers, Kiro usage limits and Code Assist user quota, with no secret in them', async () => {
    setQuotas(false)
    const store = await writePool()
    const result = await check(store)
    // The Responses key's tokens for this minute are spent: it rests the 20 s its window has left.
    expect(result['openaiResponses-custom']).toMatchObject({
      state: 'cooling',
      reason: 'quota',
      quota: {source: 'rate-limit-headers', exhausted: true, remainingPercent: 0, scope: 'tokens', resetAt: at(20_000)},
    })
    delete result['openaiResponses-custom']
    for (const entry of Object.values(result)) expect(entry, entry.type).toMatchObject({state: 'healthy'})
    const headers = {source: 'rate-limit-headers', checkedAt: at(0), exhausted: false}
    expect(result['openai-custom']!.quota).toEqual({
      ...headers,
      remainingPercent: 62,
      remaining: 310,
      limit: 500,
      resetAt: at(192 * MIN),
      scope: 'requests',
    })
    expect(result['claude-custom']!.quota).toEqual({
      ...headers,
      remainingPercent: 62,
      resetAt: at(192 * MIN),
      scope: '5h',
    })
    expect(result['openai-qwen-oauth']!.quota).toMatchObject({...headers, remainingPercent: 62, remaining: 1240})
    expect(result['claude-kiro-oauth']!.quota).toEqual({
      remainingPercent: 62,
      remaining: 31,
      limit: 50,
      resetAt: at(27 * DAY),
      tier: 'KIRO FREE',
      scope: 'AGENTIC_REQUEST',
      exhausted: false,
      source: 'usage-limits',
      checkedAt: at(0),
    })
    expect(result['gemini-cli-oauth']!.quota).toEqual({
      remainingPercent: 62,
      remaining: 620,
      limit: 1000,
      resetAt: at(5 * 60 * MIN),
      tier: 'standard-tier',
      scope: 'gemini-2.5-pro',
      exhausted: false,
      source: 'user-quota',
      checkedAt: at(0),
    })
    // The vendors' endpoints as their own clients call them.
    const usage = kiro.calls('getUsageLimits')
    expect(usage).toHaveLength(1)
    expect(usage[0]!.query).toMatchObject({origin: 'AI_EDITOR', resourceType: 'AGENTIC_REQUEST'})
    expect(usage[0]!.headers.authorization).toMatch(/^Bearer /)
    expect(codeAssist.calls('retrieveUserQuota')[0]!.body).toEqual({project: 'fake-project-123'})
    // Recorded in the pool entries through the locked write, each as the check reported it.
    const written = await entries()
    for (const [type, entry] of Object.entries(result)) expect(written[type]!.quota, type).toEqual(entry.quota)
    const quotas = JSON.stringify(Object.values(written).map((e) => e.quota))
    expect(quotas).not.toContain('PLANTED')
    for (const token of [...up.googleTokens, ...up.qwenTokens]) expect(quotas).not.toContain(token)
    expect(quotas).not.toMatch(/Bearer|@/)
    expect(written['openaiResponses-custom']!.cooldownUntil).toBe(at(20_000))
    for (const type of Object.keys(result)) expect(written[type]!.cooldownUntil, type).toBeUndefined()
  })

  it('a spent quota cools the instance until the reset its vendor named', async () => {
    setQuotas(true)
    const store = await writePool()
    const result = await check(store)
    const resets: Record<string, string> = {
      'openai-custom': at(192 * MIN),
      'claude-custom': at(192 * MIN),
      'claude-kiro-oauth': at(27 * DAY),
      'gemini-cli-oauth': at(5 * 60 * MIN),
    }
    const written = await entries()
    for (const [type, reset] of Object.entries(resets)) {
      expect(result[type], type).toMatchObject({
        healthy: false,
        state: 'cooling',
        reason: 'quota',
        quota: {exhausted: true, resetAt: reset},
      })
      expect(written[type], type).toMatchObject({cooldownUntil: reset, lastErrorReason: 'quota', isHealthy: true})
    }
    expect(result['openai-custom']!.error).toBe(`no quota left until ${at(192 * MIN)}`)
    // The Qwen portal still had requests left.
    expect(result['openai-qwen-oauth']).toMatchObject({state: 'healthy'})
  })

  it('a quota endpoint that fails does not fail the check, and the last reading stays', async () => {
    setQuotas(false)
    const store = await writePool()
    await check(store)
    const before = await entries()
    kiro.script.aux = (req) => (req.route === 'getUsageLimits' ? {kind: 'status', status: 500} : undefined)
    codeAssist.script.aux = (req) => (req.route === 'retrieveUserQuota' ? {kind: 'destroy'} : undefined)
    try {
      const result = await check(store)
      // Code Assist's tier alone is no reading: the buckets are what the pool entry keeps.
      for (const type of ['claude-kiro-oauth', 'gemini-cli-oauth'])
        expect(result[type], type).toMatchObject({healthy: true, state: 'healthy', quota: null, error: null})
      const after = await entries()
      expect(after['claude-kiro-oauth']!.quota).toEqual(before['claude-kiro-oauth']!.quota)
      expect(after['gemini-cli-oauth']!.quota).toEqual(before['gemini-cli-oauth']!.quota)
    } finally {
      kiro.script.aux = undefined
      codeAssist.script.aux = undefined
    }
  })

  it('a quota endpoint that hangs costs no more than the check deadline', async () => {
    setQuotas(false)
    const store = await writePool()
    kiro.script.aux = (req) => (req.route === 'getUsageLimits' ? {kind: 'hang'} : undefined)
    try {
      const started = Date.now()
      const result = await check(store, 1500)
      expect(Date.now() - started).toBeLessThan(4000)
      expect(result['claude-kiro-oauth']).toMatchObject({healthy: true, state: 'healthy', quota: null})
    } finally {
      kiro.script.aux = undefined
    }
  })
})

describe('the health monitor while serving', () => {
  it('keeps the quota a probe read, and rests a spent instance until the reset, past the cooldown cap', async () => {
    setQuotas(true)
    const store = await writePool()
    const state = new PoolState(DEFAULT_HEALTH_POLICY, now)
    state.sync((await store.read()).instances)
    const dispatchers = new Dispatchers()
    const monitor = new HealthMonitor(state, createAdapters(dispatchers, store), {...DEFAULT_MONITOR, timeoutMs: 5000})
    try {
      const kiroLive = state.list('claude-kiro-oauth')[0]!
      const openaiLive = state.list('openai-custom')[0]!
      await monitor.probeNow(kiroLive)
      await monitor.probeNow(openaiLive)
      // Far beyond maxCooldownMs (30 min): the vendor named the reset.
      expect(kiroLive.cooldownUntil).toBe(NOW + 27 * DAY)
      expect(openaiLive.cooldownUntil).toBe(NOW + 192 * MIN)
      expect(state.stateOf(kiroLive)).toBe('cooling')
      expect(quotaOf(kiroLive)).toMatchObject({exhausted: true, remaining: 0, tier: 'KIRO FREE'})
      const changes = state.drain()
      expect(changes.get(kiroLive.id)!.fields).toMatchObject({
        quota: {exhausted: true, resetAt: at(27 * DAY)},
        cooldownUntil: at(27 * DAY),
      })
    } finally {
      await monitor.stop()
      await dispatchers.destroy()
    }
  })
})

describe('the commands', () => {
  it('pool check (lines and --json) reports the quota, and pool list shows it in its table and its --json', async () => {
    const hour = 3_600_000
    const limited = await startOpenAIFake({
      name: 'limited',
      // 30 s of slack so that "3h12m" holds however long the commands take to start.
      rateLimits: {requests: {limit: 500, remaining: 310, reset: '3h12m30s'}},
    })
    fakes.push(limited)
    const pools = join(up.dir, 'commands-pools.json')
    await writeFile(
      pools,
      JSON.stringify({
        'openai-custom': [
          openaiInstance(limited, 'limited', 'sk-PLANTED-list-0123456789'),
          {...openaiInstance(limited, 'unread'), isDisabled: true, quota: 'not a quota'},
        ],
      }),
    )
    const lines = await runCli(['pool', 'check', '--pools-file', pools], {cwd: up.dir})
    expect(lines.stdout).toMatch(/limited healthy \d+ms · 62 % left, resets in 3h12m\n/)
    const checked = await runCli(['pool', 'check', '--json', '--pools-file', pools], {cwd: up.dir})
    const [entry] = JSON.parse(checked.stdout) as Array<{quota: Record<string, unknown>}>
    expect(entry!.quota).toMatchObject({remainingPercent: 62, remaining: 310, limit: 500, exhausted: false})
    expect(Date.parse(entry!.quota.resetAt as string) - Date.now()).toBeGreaterThan(3 * hour)
    const table = await runCli(['pool', 'list', '--pools-file', pools], {cwd: up.dir})
    expect(table.stdout).toMatch(/QUOTA\n/)
    expect(table.stdout).toMatch(/limited .* 62 % left, resets in 3h12m\n/)
    expect(table.stdout).toMatch(/unread .* -\s*$/)
    const listed = JSON.parse((await runCli(['pool', 'list', '--json', '--pools-file', pools], {cwd: up.dir})).stdout)
    expect(listed[0].quota).toEqual(entry!.quota)
    expect(checked.stdout + lines.stdout + table.stdout).not.toContain('PLANTED')
  })
})
