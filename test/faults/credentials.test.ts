import {rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, startQwenPortalFake, type FakeUpstream} from '../fakes/index.js'
import {startFakeQwenOAuth, type FakeQwenOAuth} from '../fakes/oauth/index.js'
import {tempDir} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, waitFor} from '../helpers/proxy.js'

const env = {...process.env}
let dir: string
let cleanup: () => Promise<void>
let portal: FakeUpstream
let backup: FakeUpstream
let auth: FakeQwenOAuth

beforeAll(async () => {
  ;({dir, cleanup} = await tempDir())
  portal = await startQwenPortalFake({name: 'qwen'})
  backup = await startOpenAIFake({name: 'backup'})
  auth = await startFakeQwenOAuth({resourceUrl: portal.url})
  Object.assign(process.env, auth.env)
})
afterAll(async () => {
  process.env = env
  await Promise.all([portal.close(), backup.close(), auth.close()])
  await cleanup()
})

async function credentials(name: string, expiresInMs: number): Promise<string> {
  const file = join(dir, `${name}.json`)
  await writeFile(
    file,
    JSON.stringify({
      ...auth.issueTokens(),
      token_type: 'Bearer',
      resource_url: portal.url,
      expiry_date: Date.now() + expiresInMs,
      other: 'kept',
    }),
  )
  return file
}

const ask = (url: string, type = 'openai-qwen-oauth') =>
  post(`${url}/${type}/v1/chat/completions`, {model: 'qwen3-coder-plus', messages: [{role: 'user', content: 'hi'}]})

describe('credential faults while serving', () => {
  it('refresh endpoint down: a token still valid keeps serving; an expired one fails the attempt, counted', async () => {
    const soon = await credentials('soon', 20_000)
    const expired = await credentials('expired', -1000)
    const deadAuth = 'http://127.0.0.1:9'
    process.env.AICLIENT_QWEN_OAUTH_BASE_URL = deadAuth
    const proxy = await startTestProxy({
      'openai-qwen-oauth': [
        {QWEN_OAUTH_CREDS_FILE_PATH: soon, uuid: 'soon-0001', customName: 'soon'},
        {QWEN_OAUTH_CREDS_FILE_PATH: expired, uuid: 'expired-0001', customName: 'expired'},
      ],
    })
    try {
      // Round-robin: the first request goes to "soon" (refresh due, endpoint down, token still good), the second to
      // "expired", which cannot get a token and fails over back to "soon".
      expect((await ask(proxy.url)).status).toBe(200)
      const second = await ask(proxy.url)
      expect(second.status).toBe(200)
      expect(second.headers['x-aiclient-instance']).toBe('soon')
      const expiredLive = proxy.state.list('openai-qwen-oauth').find((l) => l.config.name === 'expired')!
      expect(expiredLive.errorCount).toBe(1)
      expect(expiredLive.healthy).toBe(true)
    } finally {
      process.env.AICLIENT_QWEN_OAUTH_BASE_URL = auth.url
      await proxy.cleanup()
    }
  })

  for (const fault of ['deleted', 'corrupted'] as const) {
    it(`credential file ${fault} during serve: the instance needs a re-login, others serve, and it comes back when fixed`, async () => {
      const file = await credentials(fault, 3_600_000)
      const proxy = await startTestProxy(
        {
          'openai-qwen-oauth': [{QWEN_OAUTH_CREDS_FILE_PATH: file, uuid: `${fault}-0001`, customName: fault}],
          'openai-custom': [openaiInstance(backup, 'backup')],
        },
        {config: {HEALTH_PROBE_INITIAL_SECONDS: 0.3, HEALTH_PROBE_MAX_SECONDS: 0.5}},
      )
      try {
        expect((await ask(proxy.url)).status).toBe(200)
        if (fault === 'deleted') await rm(file)
        else await writeFile(file, '{"access_token": ')
        // The manager notices the file changed at its next look (within a second); until then the old token serves.
        let failed: Awaited<ReturnType<typeof ask>> | undefined
        await waitFor(async () => (failed = await ask(proxy.url)).status !== 200, 3000, 'the change noticed')
        expect(failed!.status).toBe(502)
        expect(failed!.json().error.message).toMatch(/re-login needed: aiclient auth login qwen/)
        const live = proxy.state.list('openai-qwen-oauth')[0]!
        expect(live.healthy).toBe(false)
        expect((await ask(proxy.url, 'openai-custom')).status).toBe(200)
        await credentials(fault, 3_600_000)
        await waitFor(() => proxy.state.list('openai-qwen-oauth')[0]!.healthy, 5000, 'recovery by probe')
        expect((await ask(proxy.url)).status).toBe(200)
      } finally {
        await proxy.cleanup()
      }
    })
  }
})
