import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {parseMetrics, total} from '../helpers/metrics.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let openai: FakeUpstream
let claude: FakeUpstream
let proxy: TestProxy | undefined

beforeAll(async () => {
  openai = await startOpenAIFake({name: 'openai'})
  claude = await startAnthropicFake({name: 'claude'})
})

afterEach(async () => {
  await proxy?.cleanup()
  proxy = undefined
  openai.reset()
  claude.reset()
})

afterAll(async () => {
  await Promise.all([openai.close(), claude.close()])
})

const API_KEY = 'client-key-for-metrics-0123456789'
const KEY_A = 'sk-instance-a-secret-0123456789'
const KEY_B = 'sk-instance-b-secret-9876543210'
const KEY_TEAM = 'sk-ant-team-secret-0123456789'
const AUTH = {authorization: `Bearer ${API_KEY}`}

async function serve(config: Record<string, unknown> = {}): Promise<TestProxy> {
  proxy = await startTestProxy(
    {
      'openai-custom': [openaiInstance(openai, 'a', KEY_A), openaiInstance(openai, 'b', KEY_B)],
      'claude-custom': [claudeInstance(claude, 'team', KEY_TEAM)],
    },
    {apiKey: API_KEY, config: {providerFallbackChain: {'openai-custom': ['claude-custom']}, ...config}},
  )
  return proxy
}

const chat = (p: TestProxy) =>
  post(
    `${p.url}/openai-custom/v1/chat/completions`,
    {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hello'}]},
    AUTH,
  )

describe('GET /metrics', () => {
  it('counts exactly the requests sent, by type, instance, protocol and status class, with failovers and fallbacks', async () => {
    const p = await serve()
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await chat(p)).status)
    // A 500 from the first instance tried: the other one serves (one failover).
    openai.enqueue({kind: 'status', status: 500})
    statuses.push((await chat(p)).status)
    // An upstream refusal that quotes the instance's key is the client's answer (a 4xx, no failover).
    openai.enqueue({kind: 'status', status: 400, message: `Invalid key ${KEY_A} or ${KEY_B}`})
    statuses.push((await chat(p)).status)
    // An unknown route: counted without a type or instance.
    statuses.push((await get(`${p.url}/v1/nothing-here`, AUTH)).status)
    // Both OpenAI instances rate-limited: claude-custom serves as the fallback after two failovers.
    openai.enqueue({kind: 'status', status: 429, retryAfter: 60}, {kind: 'status', status: 429, retryAfter: 60})
    statuses.push((await chat(p)).status)
    expect(statuses).toEqual([200, 200, 200, 200, 400, 404, 200])

    const scrape = await get(`${p.url}/metrics`, AUTH)
    expect(scrape.status).toBe(200)
    const families = parseMetrics(scrape.text)
    const requests = (labels: Record<string, string>) => total(families, 'aiclient_requests_total', labels)
    expect(requests({})).toBe(statuses.length)
    expect(requests({type: 'openai-custom', protocol: 'openai', status_class: '2xx'})).toBe(4)
    expect(requests({type: 'openai-custom', status_class: '4xx'})).toBe(1)
    expect(requests({type: 'claude-custom', instance: 'team', uuid: 'team-uuid-0000', status_class: '2xx'})).toBe(1)
    expect(requests({type: '', instance: '', status_class: '4xx'})).toBe(1)
    expect(requests({instance: 'a'}) + requests({instance: 'b'})).toBe(5)
    expect(total(families, 'aiclient_failovers_total', {type: 'openai-custom'})).toBe(3)
    expect(total(families, 'aiclient_fallbacks_total', {from: 'openai-custom', to: 'claude-custom'})).toBe(1)
    expect(total(families, 'aiclient_request_duration_seconds_count')).toBe(statuses.length)
    // The instances rest after the 429s; the scrape reads that from the pool.
    expect(total(families, 'aiclient_instance_state', {type: 'openai-custom', state: 'cooling'})).toBe(2)
    expect(total(families, 'aiclient_instance_cooldown_remaining_seconds', {instance: 'a'})).toBeGreaterThan(50)
    expect(total(families, 'aiclient_instance_in_flight')).toBe(0)
    // What the log records of the refusal quotes no key either; the scrape quotes nothing of it.
    for (const secret of [API_KEY, KEY_A, KEY_B, KEY_TEAM]) expect(scrape.text).not.toContain(secret)
    expect(scrape.text).not.toContain('Invalid key')
  })

  it('needs the API key when one is set, as the other routes do', async () => {
    const p = await serve()
    const refused = await get(`${p.url}/metrics`)
    expect(refused.status).toBe(401)
    expect(refused.json().error.message).toMatch(/Invalid or missing API key/)
    expect((await get(`${p.url}/metrics?key=${API_KEY}`)).status).toBe(200)
  })

  it('is served without a key by a loopback-only server, and refuses other methods', async () => {
    proxy = await startTestProxy({'openai-custom': [openaiInstance(openai, 'a', KEY_A)]})
    const scrape = await get(`${proxy.url}/metrics`)
    expect(scrape.status).toBe(200)
    expect(parseMetrics(scrape.text).map((f) => f.name)).toContain('aiclient_instance_state')
    const wrong = await post(`${proxy.url}/metrics`, {})
    expect(wrong.status).toBe(405)
    expect(wrong.headers.allow).toBe('GET')
    // The server's own routes, not a provider type's.
    expect((await get(`${proxy.url}/openai-custom/metrics`)).status).toBe(404)
    expect((await get(`${proxy.url}/openai-custom/aiclient/v1/status`)).status).toBe(404)
  })

  it('is not there with METRICS_ENABLED false, and nothing is counted', async () => {
    const p = await serve({METRICS_ENABLED: false})
    expect((await chat(p)).status).toBe(200)
    const scrape = await get(`${p.url}/metrics`, AUTH)
    expect(scrape.status).toBe(404)
    expect(scrape.json().error.message).toBe('Unknown route GET /metrics.')
    const status = await get(`${p.url}/aiclient/v1/status`, AUTH)
    expect(status.json()).toMatchObject({requests: null, instances: [{usage: null}, {usage: null}, {usage: null}]})
  })
})
