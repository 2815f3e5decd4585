import {describe, expect, it} from 'vitest'
import {parseMetrics, samples, total} from '../../../test/helpers/metrics.js'
import {PoolState} from '../pools/pool-state.js'
import {toInstance} from '../pools/schema.js'
import type {PoolInstance} from '../pools/types.js'
import type {ProviderAdapter} from '../providers/types.js'
import type {RequestRecord} from '../proxy/types.js'
import {rememberSecrets} from '../secrets.js'
import type {TokenUsage} from '../usage/tokens.js'
import {ProxyMetrics} from './metrics.js'
import {MAX_TOKEN_SERIES, MODEL_OVERFLOW} from './tally.js'

const NOW = 1_800_000_000_000
const SECRET = 'sk-planted-secret-0123456789'

function pool() {
  const state = new PoolState(undefined, () => NOW)
  state.sync([
    toInstance('openai-custom', {uuid: 'aaaa-1111', customName: 'work', OPENAI_API_KEY: 'sk-x'}, '/tmp'),
    toInstance('openai-custom', {uuid: 'bbbb-2222', OPENAI_API_KEY: 'sk-y'}, '/tmp'),
    toInstance(
      'openai-qwen-oauth',
      {uuid: 'cccc-3333', customName: 'qwen', QWEN_OAUTH_CREDS_FILE_PATH: 'q.json'},
      '/tmp',
    ),
  ])
  return state
}

function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    time: NOW,
    route: '/v1/chat/completions',
    protocol: 'openai',
    type: 'openai-custom',
    instance: 'work',
    instanceId: 'openai-custom/aaaa-1111',
    model: 'gpt-4o-mini',
    status: 200,
    ms: 120,
    attempts: 1,
    stream: false,
    ...overrides,
  }
}

const usage = (input: number, output: number, extra: Partial<TokenUsage> = {}): TokenUsage => ({
  input,
  output,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  estimated: false,
  ...extra,
})

async function scrape(metrics: ProxyMetrics) {
  const text = await metrics.scrape()
  return {text, families: parseMetrics(text)}
}

const qwenExpiry = new Date(NOW + 3_600_000)
const qwenAdapter = {
  tokenStatus: (instance: PoolInstance) =>
    instance.type === 'openai-qwen-oauth'
      ? {
          provider: 'qwen',
          file: 'q.json',
          state: 'valid',
          expiresAt: qwenExpiry,
          refreshing: false,
          lastRefreshAt: null,
          lastError: null,
        }
      : null,
} as unknown as ProviderAdapter

describe('ProxyMetrics', () => {
  it('counts tokens by type, instance, model, kind and source from the records that carry usage', async () => {
    const metrics = new ProxyMetrics({state: pool(), adapters: {}, now: () => NOW})
    metrics.record(record({usage: usage(10, 5, {cacheRead: 3, reasoning: 2})}))
    metrics.record(record({usage: usage(7, 1)}))
    metrics.record(record({model: 'alias', upstreamModel: 'gpt-4o', usage: usage(4, 4, {estimated: true})}))
    metrics.record(record({status: 502}))
    const {families} = await scrape(metrics)
    const work = {type: 'openai-custom', instance: 'work', uuid: 'aaaa-1111'}
    const reported = {...work, model: 'gpt-4o-mini', source: 'upstream'}
    expect(total(families, 'aiclient_tokens_total', {...reported, kind: 'input'})).toBe(17)
    expect(total(families, 'aiclient_tokens_total', {...reported, kind: 'output'})).toBe(6)
    expect(total(families, 'aiclient_tokens_total', {...reported, kind: 'cacheRead'})).toBe(3)
    expect(total(families, 'aiclient_tokens_total', {...reported, kind: 'reasoning'})).toBe(2)
    // The model that produced them is the one named: the upstream's after an alias.
    expect(
      total(families, 'aiclient_tokens_total', {...work, model: 'gpt-4o', source: 'estimate', kind: 'input'}),
    ).toBe(4)
    expect(samples(families, 'aiclient_tokens_total', {model: 'alias'})).toEqual([])
    expect(metrics.totals().tokens.get('openai-custom/aaaa-1111')).toEqual({
      input: 21,
      output: 10,
      cacheRead: 3,
      cacheWrite: 0,
      reasoning: 2,
    })
  })

  it('gives made-up model names past its bound one series between them', async () => {
    const metrics = new ProxyMetrics({state: pool(), adapters: {}, now: () => NOW})
    for (let i = 0; i < MAX_TOKEN_SERIES + 10; i++) metrics.record(record({model: `m${i}`, usage: usage(1, 0)}))
    const {families} = await scrape(metrics)
    const inputs = samples(families, 'aiclient_tokens_total', {kind: 'input'})
    expect(inputs).toHaveLength(MAX_TOKEN_SERIES + 1)
    expect(total(families, 'aiclient_tokens_total', {kind: 'input', model: MODEL_OVERFLOW})).toBe(10)
  })

  it('observes durations and times to first token in seconds', async () => {
    const metrics = new ProxyMetrics({state: pool(), adapters: {}, now: () => NOW})
    metrics.record(record({ms: 30, ttftMs: 8, stream: true}))
    metrics.record(record({ms: 4000}))
    const {families} = await scrape(metrics)
    const series = {instance: 'work', protocol: 'openai'}
    expect(total(families, 'aiclient_request_duration_seconds_count', series)).toBe(2)
    expect(total(families, 'aiclient_request_duration_seconds_sum', series)).toBeCloseTo(4.03)
    const bucket = (le: string) => total(families, 'aiclient_request_duration_seconds_bucket', {...series, le})
    expect([bucket('0.025'), bucket('0.05'), bucket('2.5'), bucket('5'), bucket('+Inf')]).toEqual([0, 1, 1, 2, 2])
    expect(total(families, 'aiclient_time_to_first_token_seconds_count', series)).toBe(1)
    expect(total(families, 'aiclient_time_to_first_token_seconds_sum', series)).toBeCloseTo(0.008)
  })

  it('takes a record with a figure that is not a number without throwing, and keeps scraping', async () => {
    const metrics = new ProxyMetrics({state: pool(), adapters: {}, now: () => NOW})
    const odd = {...usage(2, 1), output: Number.NaN, reasoning: undefined as unknown as number}
    expect(() => metrics.record(record({ms: Number.NaN, ttftMs: Number.NaN, usage: odd}))).not.toThrow()
    const {families} = await scrape(metrics)
    expect(total(families, 'aiclient_requests_total')).toBe(1)
    expect(total(families, 'aiclient_tokens_total', {kind: 'input'})).toBe(2)
    expect(total(families, 'aiclient_tokens_total', {kind: 'output'})).toBe(0)
  })

  it('reads instance state, in flight, cooldown and token expiry from the pool when scraped', async () => {
    const state = pool()
    const metrics = new ProxyMetrics({state, adapters: {'openai-qwen-oauth': qwenAdapter}, now: () => NOW})
    const [work, other] = state.list('openai-custom')
    state.cool(work!, 90_000, 'rate limited')
    state.acquire('openai-custom', new Set())
    const {families} = await scrape(metrics)
    const workLabels = {type: 'openai-custom', instance: 'work', uuid: 'aaaa-1111'}
    expect(total(families, 'aiclient_instance_state', {...workLabels, state: 'cooling'})).toBe(1)
    expect(total(families, 'aiclient_instance_state', workLabels)).toBe(1)
    // An unnamed instance is labelled by the start of its uuid, as in logs and on the board.
    expect(total(families, 'aiclient_instance_state', {instance: 'bbbb-222', state: 'healthy'})).toBe(1)
    expect(total(families, 'aiclient_instance_cooldown_remaining_seconds', workLabels)).toBe(90)
    expect(total(families, 'aiclient_instance_in_flight', {uuid: other!.config.uuid})).toBe(1)
    expect(total(families, 'aiclient_oauth_token_expiry_timestamp_seconds', {instance: 'qwen'})).toBe(
      qwenExpiry.getTime() / 1000,
    )
    expect(samples(families, 'aiclient_oauth_token_expiry_timestamp_seconds', {instance: 'work'})).toEqual([])
  })

  it('publishes no secret the process holds, wherever a label came from', async () => {
    rememberSecrets('metrics test', [SECRET])
    const state = new PoolState(undefined, () => NOW)
    state.sync([toInstance('openai-custom', {uuid: SECRET, customName: SECRET, OPENAI_API_KEY: SECRET}, '/tmp')])
    const metrics = new ProxyMetrics({state, adapters: {}, now: () => NOW})
    metrics.record(
      record({
        instance: SECRET,
        instanceId: `openai-custom/${SECRET}`,
        model: SECRET,
        usage: usage(1, 1),
        error: SECRET,
      }),
    )
    const {text, families} = await scrape(metrics)
    expect(text).not.toContain(SECRET)
    expect(total(families, 'aiclient_requests_total', {instance: 'sk-…6789'})).toBe(1)
  })
})
