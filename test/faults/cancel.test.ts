import {subscribe, unsubscribe} from 'node:diagnostics_channel'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startKiroFake, startOpenAIFake, type FakeUpstream, type KiroFakeUpstream} from '../fakes/index.js'
import {
  openaiInstance,
  post,
  startTestProxy,
  testAgent,
  waitFor,
  failOnUnhandledRejections,
  type TestProxy,
} from '../helpers/proxy.js'

failOnUnhandledRejections()

/** Origins whose response headers the proxy's undici has received, in order: the upstream answered. */
const answered: string[] = []
const onHeaders = (message: unknown) => answered.push(String((message as {request: {origin: string}}).request.origin))

let thinker: FakeUpstream
let kiro: KiroFakeUpstream
let proxy: TestProxy
beforeAll(async () => {
  subscribe('undici:request:headers', onHeaders)
  // Headers at once, the first token seconds later: a reasoning model thinking.
  thinker = await startOpenAIFake({name: 'thinker', script: {fallback: {kind: 'late-body', ms: 5000}}})
  kiro = await startKiroFake({name: 'kiro', script: {fallback: {kind: 'late-body', ms: 5000}}})
  proxy = await startTestProxy({}, {config: {ERROR_THRESHOLD: 3}})
  const credsFile = join(proxy.dir, 'kiro.json')
  const hour = new Date(Date.now() + 3_600_000).toISOString()
  await writeFile(
    credsFile,
    JSON.stringify({
      accessToken: 'kiro-at-1',
      refreshToken: 'kiro-rt-1',
      expiresAt: hour,
      authMethod: 'social',
      region: 'us-east-1',
    }),
  )
  const base = {isHealthy: true, usageCount: 0, errorCount: 0}
  await writeFile(
    proxy.poolsFile,
    JSON.stringify({
      'openai-custom': [openaiInstance(thinker, 'thinker')],
      'claude-kiro-oauth': [
        {
          ...base,
          KIRO_OAUTH_CREDS_FILE_PATH: credsFile,
          KIRO_BASE_URL: kiro.url,
          customName: 'kiro',
          uuid: 'kiro-uuid-0001',
        },
      ],
    }),
  )
  await proxy.sync.reload()
})
afterAll(async () => {
  unsubscribe('undici:request:headers', onHeaders)
  await proxy.cleanup()
  await thinker.close()
  await kiro.close()
})

/** Sends a request, and hangs up once the upstream's headers reached the proxy and before its first body byte. */
async function cancelWhileThinking(path: string, body: unknown, upstream: {url: string}): Promise<void> {
  const seen = answered.filter((origin) => origin === upstream.url).length
  const controller = new AbortController()
  const pending = request(`${proxy.url}${path}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01'},
    body: JSON.stringify(body),
    dispatcher: testAgent,
    signal: controller.signal,
  }).then((r) => r.body.text())
  await waitFor(() => answered.filter((origin) => origin === upstream.url).length > seen, 3000, 'the upstream headers')
  controller.abort()
  await pending.catch(() => undefined)
  await waitFor(() => proxy.state.list().every((live) => live.inFlight === 0), 3000, 'the proxy to let go')
}

const counted = () => proxy.state.list().map((live) => [live.errorCount, live.healthy])

const errorCounts = async () => {
  const pool = await proxy.readPool()
  return [pool['openai-custom']![0]!, pool['claude-kiro-oauth']![0]!].map((raw) => [raw.errorCount, raw.isHealthy])
}

describe('a client that hangs up while the model thinks', () => {
  it('is never counted against the instance, on any path, and the upstream is aborted', async () => {
    const openaiChat = {model: 'm', messages: [{role: 'user', content: 'think hard'}]}
    const kiroMessage = {model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{role: 'user', content: 'think hard'}]}
    for (let round = 0; round < 3; round++) {
      // A stream waiting for its first chunk, a plain answer being read, a Kiro stream being collected.
      await cancelWhileThinking('/openai-custom/v1/chat/completions', {...openaiChat, stream: true}, thinker)
      expect(counted()).toEqual([
        [0, true],
        [0, true],
      ])
      await cancelWhileThinking('/openai-custom/v1/chat/completions', openaiChat, thinker)
      expect(counted()).toEqual([
        [0, true],
        [0, true],
      ])
      await cancelWhileThinking('/claude-kiro-oauth/v1/messages', kiroMessage, kiro)
      expect(counted()).toEqual([
        [0, true],
        [0, true],
      ])
    }
    await thinker.waitFor(() => thinker.aborted === 6, 3000)
    await kiro.waitFor(() => kiro.aborted === 3, 3000)
    expect(proxy.records.filter((r) => r.status === 499)).toHaveLength(9)
    await proxy.sync.flush()
    expect(await errorCounts()).toEqual([
      [0, true],
      [0, true],
    ])

    // The positive control: a real failure in the same setup is counted, in memory and in the file.
    thinker.enqueue({kind: 'status', status: 500})
    kiro.enqueue({kind: 'status', status: 500})
    expect((await post(`${proxy.url}/openai-custom/v1/chat/completions`, openaiChat)).status).toBe(502)
    expect(
      (await post(`${proxy.url}/claude-kiro-oauth/v1/messages`, kiroMessage, {'anthropic-version': '2023-06-01'}))
        .status,
    ).toBe(502)
    await proxy.sync.flush()
    expect(await errorCounts()).toEqual([
      [1, true],
      [1, true],
    ])
  })
})
