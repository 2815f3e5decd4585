import {Agent, request} from 'undici'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {
  parseSse,
  seededRandom,
  startAnthropicFake,
  startOpenAIFake,
  type Behaviour,
  type FakeUpstream,
} from '../fakes/index.js'
import {tempDir} from '../helpers/cli.js'
import {claudeInstance, openaiInstance} from '../helpers/proxy.js'
import {startServeProcess, type ServeProcess} from '../helpers/serve-process.js'

const SEED = Number(process.env.AICLIENT_SOAK_SEED ?? 20261127)
const TOTAL = Number(process.env.AICLIENT_SOAK_TOTAL ?? 10_000)
const CONCURRENCY = 32

function pick<T>(rng: () => number, weighted: Array<[number, T]>): T {
  let x = rng() * weighted.reduce((sum, [w]) => sum + w, 0)
  for (const [w, value] of weighted) if ((x -= w) < 0) return value
  return weighted.at(-1)![1]
}

/** The faults an upstream answers with, chosen per request from the seeded generator. */
function faults(rng: () => number): (req: unknown, n: number) => Behaviour {
  return () =>
    pick<Behaviour>(rng, [
      [80, {kind: 'reply', reply: {text: 'soak ✓ 平安', chunkSize: 4}}],
      [4, {kind: 'status', status: 500}],
      [3, {kind: 'status', status: 429, headers: {'retry-after-ms': '100'}}],
      [3, {kind: 'destroy'}],
      [3, {kind: 'cut', afterEvents: 2}],
      [2, {kind: 'raw', status: 502, headers: {'content-type': 'text/html'}, body: '<html>bad gateway</html>'}],
      [
        2,
        {
          kind: 'raw',
          status: 200,
          headers: {'content-type': 'application/json'},
          body: '{"error":{"message":"hidden failure"}}',
        },
      ],
      [2, {kind: 'delay', ms: 30, then: {kind: 'reply'}}],
      [1, {kind: 'status', status: 400}],
    ])
}

let fakes: FakeUpstream[] = []
let serve: ServeProcess
let cleanup: () => Promise<void>

beforeAll(async () => {
  fakes = await Promise.all([
    ...[1, 2, 3, 4].map((i) => startOpenAIFake({name: `oa${i}`, script: {handler: faults(seededRandom(SEED + i))}})),
    ...[5, 6].map((i) => startAnthropicFake({name: `an${i}`, script: {handler: faults(seededRandom(SEED + i))}})),
  ])
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  serve = await startServeProcess(
    tmp.dir,
    {
      'openai-custom': fakes.slice(0, 4).map((f) => openaiInstance(f, f.name)),
      'claude-custom': fakes.slice(4).map((f) => claudeInstance(f, f.name)),
    },
    // Upstreams here fail one request in six; a breaker at 3 errors a minute would keep them all out.
    {HEALTH_PROBE_INITIAL_SECONDS: 0.5, HEALTH_PROBE_MAX_SECONDS: 1, DEFAULT_COOLDOWN_SECONDS: 1, ERROR_THRESHOLD: 10},
    [],
    // A small old space makes V8 collect often instead of growing lazily, so RSS shows what is really kept —
    // and a leak would end in an out-of-memory crash, which the test would see.
    {NODE_OPTIONS: '--max-old-space-size=64'},
  )
})

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()))
  await cleanup()
})

type Kind = 'valid' | 'invalid'

it(`soak: ${TOTAL} seeded mixed requests with random upstream faults — no crash, no proxy-made 5xx, stable memory`, async () => {
  const rng = seededRandom(SEED)
  const agent = new Agent({connections: CONCURRENCY, keepAliveTimeout: 1000})
  const statuses = new Map<number, number>()
  const proxyMade: string[] = []
  let memoryAfterWarmup = 0
  let sent = 0
  const one = async (): Promise<void> => {
    const type = rng() < 0.6 ? 'openai-custom' : 'claude-custom'
    const client = pick(rng, [
      [4, 'openai'],
      [4, 'anthropic'],
      [2, 'gemini'],
    ] as Array<[number, 'openai' | 'anthropic' | 'gemini']>)
    const stream = rng() < 0.4
    const kind: Kind = rng() < 0.1 ? 'invalid' : 'valid'
    const path =
      client === 'openai'
        ? '/v1/chat/completions'
        : client === 'anthropic'
          ? '/v1/messages'
          : `/v1beta/models/m:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`
    const valid =
      client === 'gemini'
        ? {contents: [{role: 'user', parts: [{text: 'hi'}]}]}
        : {model: 'm', max_tokens: 20, stream, messages: [{role: 'user', content: 'hi'}]}
    const body =
      kind === 'valid'
        ? JSON.stringify(valid)
        : pick(rng, [
            [1, '{"model":'],
            [1, JSON.stringify({model: 7})],
            [1, JSON.stringify({...valid, messages: 'x', contents: 'x'})],
          ])
    const response = await request(`${serve.url}/${type}${path}`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body,
      dispatcher: agent,
    })
    const text = await response.body.text()
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    // A 5xx must be the upstreams' doing (attempts exhausted, nothing usable), said in the client's protocol.
    if (response.statusCode >= 500) {
      const shaped = /failed; last:|No usable|cooling/.test(text) && JSON.parse(text)
      if (!shaped || response.statusCode === 500 || response.statusCode === 501)
        proxyMade.push(`${response.statusCode} ${text.slice(0, 200)}`)
    }
    if (response.statusCode === 200 && stream) {
      const events = parseSse(text).events
      if (events.length === 0) proxyMade.push(`empty stream on ${path}`)
    }
    if (kind === 'invalid' && response.statusCode < 400)
      proxyMade.push(`invalid request answered ${response.statusCode}`)
  }
  const worker = async () => {
    while (sent < TOTAL) {
      const n = ++sent
      await one()
      if (n === 2000) memoryAfterWarmup = await serve.rssMb()
      if (process.env.AICLIENT_SOAK_TRACE && n % 2000 === 0)
        console.log(`after ${n}: RSS ${(await serve.rssMb()).toFixed(0)} MB`)
    }
  }
  await Promise.all(Array.from({length: CONCURRENCY}, worker))
  const memoryAtEnd = await serve.rssMb()
  await agent.close()
  expect(proxyMade).toEqual([])
  expect(
    [...statuses.keys()].every((s) => [200, 400, 429, 502, 503].includes(s)),
    JSON.stringify([...statuses]),
  ).toBe(true)
  // The happy path is exercised too. How many succeed depends on speed (the faster the load, the larger the share
  // that meets every instance resting after a 429), so this only checks that a good part does.
  expect(statuses.get(200), JSON.stringify([...statuses])).toBeGreaterThan(TOTAL / 3)
  expect(memoryAtEnd).toBeLessThan(memoryAfterWarmup * 1.2)
  expect(await serve.stop()).toBe(0)
  console.log(
    `soak seed ${SEED}: ${TOTAL} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, RSS ${memoryAfterWarmup.toFixed(0)} → ${memoryAtEnd.toFixed(0)} MB`,
  )
}, 120_000)
