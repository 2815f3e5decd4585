import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {formatPoolEvent, formatRecord} from '../../src/core/log.js'
import type {PoolEvent} from '../../src/core/pools/pool-state.js'
import {maskSecret} from '../../src/core/secrets.js'
import {
  startKiroFake,
  startOpenAIFake,
  type Behaviour,
  type FakeUpstream,
  type KiroFakeUpstream,
} from '../fakes/index.js'
import {startFakeQwenOAuth, type FakeQwenOAuth} from '../fakes/oauth/index.js'
import {tempDir} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

/**
 * Upstreams and token servers that echo the credential they were sent, in every place an error can travel: a
 * JSON error body, an error event in a stream (converted or passed through), an exception frame of a collected
 * Kiro stream, a token endpoint's refusal. Keys and OAuth tokens alike must reach no client, log line or file.
 */
const SECRETS = {
  openaiKey: 'sk-PLANTED-openai-7e6d5c4b3a291807',
  qwenAccess: 'PLANTED-qwen-access-4c3b2a1908f7e6d5',
  qwenRefresh: 'PLANTED-qwen-refresh-a9b8c7d6e5f40312',
  kiroAccess: 'aoaPLANTED-kiro-access-1f2e3d4c5b6a7988',
  kiroRefresh: 'aorPLANTED-kiro-refresh-0a1b2c3d4e5f6071',
  expiredAccess: 'PLANTED-expired-access-5e4d3c2b1a09f8e7',
}

function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => text.includes(secret) || text.includes(secret.slice(0, 16)))
}

const ALL = Object.values(SECRETS)
/** What the upstream answers next, built from the credential it received. */
let echo: (key: string) => Behaviour = () => ({kind: 'reply'})

let dir: string
let cleanup: () => Promise<void>
let upstream: FakeUpstream
let kiro: KiroFakeUpstream
let qwenAuth: FakeQwenOAuth
let proxy: TestProxy
const files = {qwen: '', kiro: '', expired: '', refreshed: ''}
let lines: string[] = []

beforeAll(async () => {
  ;({dir, cleanup} = await tempDir())
  upstream = await startOpenAIFake({name: 'echo', script: {handler: (req) => echo(req.key ?? '')}})
  kiro = await startKiroFake({name: 'kiro', script: {handler: (req) => echo(req.key ?? '') as never}})
  qwenAuth = await startFakeQwenOAuth({resourceUrl: upstream.url, refreshTokenOnRefresh: 'new'})
  process.env.AICLIENT_QWEN_OAUTH_BASE_URL = qwenAuth.url
  const hour = Date.now() + 3_600_000
  const qwenFile = (access: string, refresh: string, expiry: number) =>
    JSON.stringify({
      access_token: access,
      refresh_token: refresh,
      token_type: 'Bearer',
      expiry_date: expiry,
      resource_url: upstream.url,
    })
  files.qwen = join(dir, 'qwen.json')
  files.expired = join(dir, 'qwen-expired.json')
  files.refreshed = join(dir, 'qwen-refreshed.json')
  files.kiro = join(dir, 'kiro.json')
  await writeFile(files.qwen, qwenFile(SECRETS.qwenAccess, SECRETS.qwenRefresh, hour))
  await writeFile(files.expired, qwenFile(SECRETS.expiredAccess, SECRETS.qwenRefresh, Date.now() - 1000))
  await writeFile(
    files.refreshed,
    qwenFile(SECRETS.expiredAccess, qwenAuth.issueTokens().refresh_token, Date.now() - 1000),
  )
  await writeFile(
    files.kiro,
    JSON.stringify({
      accessToken: SECRETS.kiroAccess,
      refreshToken: SECRETS.kiroRefresh,
      expiresAt: new Date(hour).toISOString(),
      authMethod: 'social',
      provider: 'Github',
      region: 'us-east-1',
    }),
  )
})

afterAll(async () => {
  delete process.env.AICLIENT_QWEN_OAUTH_BASE_URL
  await Promise.all([upstream.close(), kiro.close(), qwenAuth.close()])
  await cleanup()
})

/** The pool: one instance of each type, the Qwen one with the given credential file. */
async function start(qwenCreds = files.qwen): Promise<void> {
  const base = {isHealthy: true, usageCount: 0, errorCount: 0}
  proxy = await startTestProxy({
    'openai-custom': [openaiInstance(upstream, 'key', SECRETS.openaiKey)],
    'openai-qwen-oauth': [{...base, QWEN_OAUTH_CREDS_FILE_PATH: qwenCreds, customName: 'qwen', uuid: 'qwen-uuid-0001'}],
    'claude-kiro-oauth': [
      {
        ...base,
        KIRO_OAUTH_CREDS_FILE_PATH: files.kiro,
        KIRO_BASE_URL: kiro.url,
        customName: 'kiro',
        uuid: 'kiro-uuid-0001',
      },
    ],
  })
  lines = []
  proxy.state.on('event', (event: PoolEvent) => {
    const line = formatPoolEvent(event, Date.now())
    if (line) lines.push(line)
  })
}

afterEach(async () => {
  await proxy.cleanup()
  upstream.reset()
  kiro.reset()
})

/**
 * Every place the request's text went: the client's answer, the log lines (records and health events), and the
 * status fields written back to the pool file (the file itself holds the keys, of course).
 */
async function outputs(answer: {text: string; headers: Record<string, unknown>}): Promise<string> {
  await proxy.sync.flush()
  const records = proxy.records.map((record) => formatRecord(record))
  const reasons = Object.values(await proxy.readPool()).flatMap((entries) =>
    entries.map((entry) => String(entry.lastErrorReason)),
  )
  return [answer.text, JSON.stringify(answer.headers), ...records, ...lines, ...reasons].join('\n')
}

const openaiChat = (stream: boolean) => ({model: 'm', stream, messages: [{role: 'user', content: 'hi'}]})
const anthropicChat = (stream: boolean) => ({
  model: 'm',
  stream,
  max_tokens: 50,
  messages: [{role: 'user', content: 'hi'}],
})

/** [name, path, body, what the upstream does with the credential, the secret it was sent] */
const CASES: Array<[string, string, unknown, (key: string) => Behaviour, string]> = [
  [
    'a key in a converted stream error event',
    '/openai-custom/v1/messages',
    anthropicChat(true),
    streamEcho,
    SECRETS.openaiKey,
  ],
  [
    'a key in a passed-through stream error event',
    '/openai-custom/v1/chat/completions',
    openaiChat(true),
    streamEcho,
    SECRETS.openaiKey,
  ],
  [
    'an access token in a converted stream error event',
    '/openai-qwen-oauth/v1/messages',
    anthropicChat(true),
    streamEcho,
    SECRETS.qwenAccess,
  ],
  [
    'an access token in a passed-through stream error event',
    '/openai-qwen-oauth/v1/chat/completions',
    openaiChat(true),
    streamEcho,
    SECRETS.qwenAccess,
  ],
  [
    'an access token in a 500 JSON error',
    '/openai-qwen-oauth/v1/chat/completions',
    openaiChat(false),
    (key) => ({kind: 'status', status: 500, message: `server saw Bearer ${key}`}),
    SECRETS.qwenAccess,
  ],
  [
    'an access token in a 400 passed through',
    '/openai-qwen-oauth/v1/chat/completions',
    openaiChat(false),
    (key) => ({kind: 'status', status: 400, message: `bad request for Bearer ${key}`}),
    SECRETS.qwenAccess,
  ],
  [
    'an access token in a converted 400',
    '/openai-qwen-oauth/v1/messages',
    anthropicChat(false),
    (key) => ({kind: 'status', status: 400, message: `bad request for Bearer ${key}`}),
    SECRETS.qwenAccess,
  ],
  [
    'an access token in a quota refusal (the instance reason)',
    '/openai-qwen-oauth/v1/chat/completions',
    openaiChat(false),
    (key) => ({kind: 'status', status: 429, message: `insufficient_quota for token ${key}`}),
    SECRETS.qwenAccess,
  ],
  [
    'a Kiro token in an exception of a collected stream',
    '/claude-kiro-oauth/v1/messages',
    anthropicChat(false),
    (key) => ({kind: 'stream-error', afterEvents: 1, status: 400, message: `token ${key} is not valid here`}),
    SECRETS.kiroAccess,
  ],
  [
    'a Kiro token in an exception of a converted stream',
    '/claude-kiro-oauth/v1/chat/completions',
    openaiChat(true),
    (key) => ({kind: 'stream-error', afterEvents: 1, status: 500, message: `token ${key} exploded`}),
    SECRETS.kiroAccess,
  ],
]

function streamEcho(key: string): Behaviour {
  return {kind: 'stream-error', afterEvents: 2, status: 500, message: `upstream exploded for Bearer ${key}`}
}

describe('no secret the process holds reaches a client, a log line or the pool file', () => {
  for (const [name, path, body, behaviour, secret] of CASES) {
    it(name, async () => {
      echo = behaviour
      await start()
      const answer = await post(`${proxy.url}${path}`, body)
      // The upstream really was sent the secret and really echoed it: the masked form shows where it went.
      const fake = path.startsWith('/claude-kiro-oauth') ? kiro : upstream
      expect(fake.requests.map((r) => r.key)).toContain(secret)
      const seen = await outputs(answer)
      expect(leaks(seen, ALL)).toEqual([])
      expect(seen).toContain(maskSecret(secret))
    })
  }

  it('a refresh token quoted by the token endpoint that refused it', async () => {
    echo = () => ({kind: 'reply'})
    qwenAuth.enqueueRefreshes({
      status: 503,
      body: {error: 'temporarily_unavailable', error_description: `cannot refresh ${SECRETS.qwenRefresh} now`},
    })
    await start(files.expired)
    const answer = await post(`${proxy.url}/openai-qwen-oauth/v1/chat/completions`, openaiChat(false))
    expect(answer.status).toBe(502)
    expect(qwenAuth.refreshCount).toBe(1)
    expect(leaks(await outputs(answer), ALL)).toEqual([])
    expect(answer.text).toContain(maskSecret(SECRETS.qwenRefresh))
  })

  it('an access token obtained by a refresh, then echoed by the upstream', async () => {
    echo = (key) => ({kind: 'status', status: 500, message: `server saw Bearer ${key}`})
    await start(files.refreshed)
    const answer = await post(`${proxy.url}/openai-qwen-oauth/v1/chat/completions`, openaiChat(false))
    const fresh = JSON.parse(await readFile(files.refreshed, 'utf8')) as {access_token: string; refresh_token: string}
    expect(fresh.access_token).not.toBe(SECRETS.expiredAccess)
    expect(upstream.requests.map((r) => r.key)).toContain(fresh.access_token)
    expect(leaks(await outputs(answer), [...ALL, fresh.access_token, fresh.refresh_token])).toEqual([])
    expect(answer.text).toContain(maskSecret(fresh.access_token))
  })
})
