import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {runChecks} from '../../src/core/health/check.js'
import {Dispatchers} from '../../src/core/http/dispatchers.js'
import {resetInstances, setDisabled} from '../../src/core/pools/operations.js'
import {PoolStore} from '../../src/core/pools/store.js'
import {createAdapters} from '../../src/core/providers/index.js'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {get, openaiInstance, post, startTestProxy, waitFor, type TestProxy} from '../helpers/proxy.js'
import {tempDir} from '../helpers/cli.js'

let openai: FakeUpstream
let proxy: TestProxy | undefined
const cleanups: Array<() => Promise<void>> = []

beforeAll(async () => {
  openai = await startOpenAIFake({name: 'openai'})
})

afterEach(async () => {
  await proxy?.cleanup()
  proxy = undefined
  openai.reset()
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

afterAll(async () => {
  await openai.close()
})

const API_KEY = 'client-key-for-admin-0123456789'
const KEY_A = 'sk-admin-a-secret-0123456789'
const KEY_B = 'sk-admin-b-secret-9876543210'
const AUTH = {authorization: `Bearer ${API_KEY}`}
const NOW = Date.parse('2026-12-04T12:00:00.000Z')

function doc() {
  return {
    'openai-custom': [
      openaiInstance(openai, 'a', KEY_A),
      {...openaiInstance(openai, 'b', KEY_B), isHealthy: false, errorCount: 4, lastErrorReason: 'server'},
    ],
  }
}

async function serve(
  options: {apiKey?: string; allowLocalAdmin?: boolean; now?: () => number; pool?: Record<string, unknown>} = {},
) {
  const {pool = doc(), ...overrides} = options
  proxy = await startTestProxy(pool, overrides)
  return proxy
}

/** The pool file once serve has stopped writing to it (its writes follow a change within flushDelayMs). */
async function settledPool(p: TestProxy): Promise<string> {
  let last = await readFile(p.poolsFile, 'utf8')
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const now = await readFile(p.poolsFile, 'utf8')
    if (now === last) return now
    last = now
  }
}

/** What the CLI's operation makes of the same file: run on a copy. */
async function asTheCliWould(text: string, operation: (store: PoolStore) => Promise<unknown>): Promise<string> {
  const {dir, cleanup} = await tempDir()
  cleanups.push(cleanup)
  const file = join(dir, 'provider_pools.json')
  await writeFile(file, text)
  await operation(new PoolStore(file))
  return readFile(file, 'utf8')
}

const admin = (p: TestProxy, path: string) => `${p.url}/aiclient/v1/${path}`

describe('POST /aiclient/v1/instances/{uuid}/…', () => {
  it.each([
    ['disable', 'a-uuid-0000', (store: PoolStore) => setDisabled(store, 'a-uuid-0000', true, 'openai-custom')],
    ['reset', 'b-uuid-0000', (store: PoolStore) => resetInstances(store, 'b-uuid-0000', 'openai-custom')],
  ])('%s changes the pool file exactly as the CLI does', async (action, uuid, operation) => {
    const p = await serve({apiKey: API_KEY})
    const before = await settledPool(p)
    const answer = await post(admin(p, `instances/${uuid}/${action}`), '', AUTH)
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({action, instance: {uuid}})
    const expected = await asTheCliWould(before, operation)
    expect(expected).not.toBe(before)
    expect(await settledPool(p)).toBe(expected)
  })

  it('disable takes the instance out of rotation at once, and enable brings it back', async () => {
    const p = await serve({apiKey: API_KEY})
    await post(admin(p, 'instances/b-uuid-0000/reset'), '', AUTH)
    const disabled = await post(admin(p, 'instances/a/disable'), '', AUTH)
    expect(disabled.json().instance).toMatchObject({uuid: 'a-uuid-0000', state: 'disabled'})
    for (let i = 0; i < 3; i++) {
      await post(
        `${p.url}/v1/chat/completions`,
        {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]},
        AUTH,
      )
    }
    expect(p.records.map((r) => r.instance)).toEqual(['b', 'b', 'b'])
    const enabled = await post(admin(p, 'instances/a-uuid-0000/enable'), '', AUTH)
    expect(enabled.json().instance).toMatchObject({state: 'healthy'})
    expect((await p.readPool())['openai-custom']![0]!.isDisabled).toBe(false)
  })

  it('check probes the instance and records the verdict as `aiclient pool check` does', async () => {
    const p = await serve({apiKey: API_KEY, now: () => NOW})
    const before = await settledPool(p)
    const answer = await post(admin(p, 'instances/b-uuid-0000/check'), '', AUTH)
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({
      action: 'check',
      check: {uuid: 'b-uuid-0000', healthy: true, state: 'healthy'},
      instance: {state: 'healthy'},
    })
    const dispatchers = new Dispatchers({connectMs: 5000, headersMs: 15_000, idleMs: 15_000})
    const expected = await asTheCliWould(before, (store) =>
      runChecks(store, createAdapters(dispatchers, store), {
        refs: ['b-uuid-0000'],
        concurrency: 4,
        timeoutMs: 15_000,
        now: () => NOW,
      }),
    )
    await dispatchers.destroy()
    expect(expected).not.toBe(before)
    expect(await settledPool(p)).toBe(expected)
  })

  it('answers a failed check without the secrets an upstream error quoted', async () => {
    const p = await serve({apiKey: API_KEY})
    openai.enqueue({kind: 'status', status: 401, message: `Incorrect API key provided: ${KEY_A}, ${API_KEY}`})
    const answer = await post(admin(p, 'instances/a-uuid-0000/check'), '', AUTH)
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({check: {healthy: false, reason: 'auth'}, instance: {state: 'unhealthy'}})
    expect(answer.text).toContain('Incorrect API key provided')
    for (const secret of [KEY_A, API_KEY]) expect(answer.text).not.toContain(secret)
  })

  it('are refused without the key, and change nothing', async () => {
    const p = await serve({apiKey: API_KEY})
    const before = await settledPool(p)
    const refused = await post(admin(p, 'instances/a-uuid-0000/disable'), '')
    expect(refused.status).toBe(401)
    expect(refused.json().error.message).toMatch(/Invalid or missing API key/)
    expect((await post(admin(p, 'instances/a-uuid-0000/disable'), '', {authorization: 'Bearer wrong'})).status).toBe(
      401,
    )
    expect(await settledPool(p)).toBe(before)
    expect(p.state.list()[0]!.disabled).toBe(false)
  })

  it('are refused by a server without a key unless --allow-local-admin, with a message that says so', async () => {
    const p = await serve()
    const refused = await post(admin(p, 'instances/a-uuid-0000/disable'), '')
    expect(refused.status).toBe(403)
    expect(refused.json().error.message).toMatch(/--api-key.*--allow-local-admin/s)
    expect(p.state.list()[0]!.disabled).toBe(false)
    await p.cleanup()
    const allowed = await serve({allowLocalAdmin: true})
    expect((await post(admin(allowed, 'instances/a-uuid-0000/disable'), '')).status).toBe(200)
    await waitFor(async () => (await allowed.readPool())['openai-custom']![0]!.isDisabled === true)
  })

  it('answer an unknown instance with 404, a wrong method with 405 and an unknown route with 404', async () => {
    const p = await serve({apiKey: API_KEY})
    const unknown = await post(admin(p, 'instances/no-such-uuid/disable'), '', AUTH)
    expect(unknown.status).toBe(404)
    expect(unknown.json().error.message).toBe('No instance matches "no-such-uuid".')
    const wrong = await get(admin(p, 'instances/a-uuid-0000/disable'), AUTH)
    expect(wrong.status).toBe(405)
    expect(wrong.json().error.message).toBe('This management route takes POST, not GET.')
    expect((await post(admin(p, 'status'), '', AUTH)).status).toBe(405)
    const nothing = await post(admin(p, 'instances/a-uuid-0000/explode'), '', AUTH)
    expect(nothing.status).toBe(404)
    expect(nothing.json().error.message).toMatch(
      /^Unknown route POST \/aiclient\/v1\/instances\/a-uuid-0000\/explode\./,
    )
  })

  it('refuse a reference that names several instances with 409, as `pool disable` refuses it', async () => {
    const twins = [openaiInstance(openai, 'a', KEY_A), {...openaiInstance(openai, 'b', KEY_B), customName: 'a'}]
    const p = await serve({apiKey: API_KEY, pool: {'openai-custom': twins}})
    const ambiguous = await post(admin(p, 'instances/a/disable'), '', AUTH)
    expect(ambiguous.status).toBe(409)
    expect(ambiguous.json().error.message).toMatch(/^"a" matches 2 instances:/)
    expect(p.state.list().map((live) => live.disabled)).toEqual([false, false])
  })
})

describe('GET /aiclient/v1/status', () => {
  it('gives the board’s data: instances, states, counts, tokens, quotas, sessions', async () => {
    const quota = {
      remainingPercent: 62,
      resetAt: '2026-12-04T15:12:00.000Z',
      exhausted: false,
      source: 'rate-limit-headers',
      checkedAt: '2026-12-04T11:59:00.000Z',
    }
    const pool = doc()
    Object.assign(pool['openai-custom'][0]!, {inputTokens: 1000, outputTokens: 100, cacheReadTokens: 50, quota})
    const p = await serve({apiKey: API_KEY, pool})
    openai.enqueue({kind: 'reply', reply: {text: 'hi', usage: {input: 30, output: 7, cached: 10}}})
    await post(`${p.url}/v1/chat/completions`, {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]}, AUTH)
    const status = await get(admin(p, 'status'), AUTH)
    expect(status.status).toBe(200)
    const body = status.json()
    expect(body).toMatchObject({
      requests: {'2xx': 1},
      types: {'openai-custom': {strategy: 'round-robin', instances: 2, healthy: 1, waiting: 0}},
      sessions: 0,
    })
    expect(body.instances).toEqual([
      expect.objectContaining({
        id: 'openai-custom/a-uuid-0000',
        name: 'a',
        state: 'healthy',
        requests: 1,
        errors: 0,
        inFlight: 0,
        limits: {concurrency: 0, queue: 0},
        token: null,
        usage: expect.objectContaining({input: 20, cacheRead: 10, output: 7}),
        // The file's totals and this run's: 1,000 + 20 uncached in, 50 + 10 from the cache, 100 + 7 out.
        tokens: {input: 1020, output: 107, cacheRead: 60, cacheWrite: 0, reasoning: 0, estimated: 0, total: 1187},
        quota: expect.objectContaining({remainingPercent: 62, resetAt: quota.resetAt}),
      }),
      expect.objectContaining({name: 'b', state: 'unhealthy', reason: 'server', errors: 4, quota: null}),
    ])
    for (const secret of [KEY_A, KEY_B, API_KEY]) expect(status.text).not.toContain(secret)
  })

  it('needs the key when one is set, and is served without one on loopback otherwise', async () => {
    const keyed = await serve({apiKey: API_KEY})
    expect((await get(admin(keyed, 'status'))).status).toBe(401)
    await keyed.cleanup()
    const open = await serve()
    expect((await get(admin(open, 'status'))).status).toBe(200)
  })
})
