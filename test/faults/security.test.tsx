import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {render} from 'ink-testing-library'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {keyMatches} from '../../src/core/server/auth.js'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {buildRows} from '../../src/ui/board/model.js'
import {StatusBoard} from '../../src/ui/board/StatusBoard.js'
import {runCli, spawnCli, tempDir} from '../helpers/cli.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy} from '../helpers/proxy.js'

/** Secrets planted in the pool file, the credential file and the client; none may appear in any output. */
const SECRETS = {
  openaiKey: 'sk-PLANTED-openai-5f1e2d3c4b5a69788796',
  claudeKey: 'sk-ant-PLANTED-claude-a1b2c3d4e5f60718',
  clientKey: 'PLANTED-client-key-0f1e2d3c4b5a6978',
  accessToken: 'PLANTED-access-token-9a8b7c6d5e4f3a2b',
  refreshToken: 'PLANTED-refresh-token-1a2b3c4d5e6f7a8b',
}

function expectClean(text: string, where: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    expect(text.includes(secret), `${name} leaked in ${where}`).toBe(false)
    // Nor a long enough piece of it to be useful.
    expect(text.includes(secret.slice(0, 16)), `${name} prefix leaked in ${where}`).toBe(false)
  }
}

let dir: string
let cleanup: () => Promise<void>
let openai: FakeUpstream
let echoing: FakeUpstream
let pools: string
let poolDoc: string

/** Each test starts from the same pool: checks and serving change health fields in the file. */
async function freshPools(): Promise<string> {
  await writeFile(pools, poolDoc)
  return pools
}

beforeAll(async () => {
  ;({dir, cleanup} = await tempDir())
  openai = await startOpenAIFake({name: 'oa', keys: [SECRETS.openaiKey, SECRETS.accessToken]})
  // An upstream that echoes whatever key it got in its error message, as some do.
  echoing = await startAnthropicFake({
    name: 'echo',
    script: {handler: (req) => ({kind: 'status', status: 500, message: `upstream exploded for key ${req.key}`})},
  })
  pools = join(dir, 'provider_pools.json')
  const creds = join(dir, 'qwen.json')
  await writeFile(
    creds,
    JSON.stringify({
      access_token: SECRETS.accessToken,
      refresh_token: SECRETS.refreshToken,
      token_type: 'Bearer',
      expiry_date: Date.now() + 3_600_000,
      resource_url: openai.url,
    }),
  )
  poolDoc = JSON.stringify({
    'openai-custom': [openaiInstance(openai, 'oa', SECRETS.openaiKey)],
    'claude-custom': [claudeInstance(echoing, 'echo', SECRETS.claudeKey)],
    'openai-qwen-oauth': [{QWEN_OAUTH_CREDS_FILE_PATH: creds, uuid: 'qwen-uuid-1', customName: 'qwen'}],
  })
})

afterAll(async () => {
  await openai.close()
  await echoing.close()
  await cleanup()
})

describe('no secret in any output', () => {
  it('pool list, list --json, check --json, config', async () => {
    const env = {AICLIENT_POOLS_FILE: await freshPools()}
    for (const args of [
      ['pool', 'list'],
      ['pool', 'list', '--json'],
      ['pool', 'check', '--json', '--timeout', '2s'],
      ['pool', 'check', '--cheap'],
    ]) {
      const result = await runCli(args, {cwd: dir, env})
      expectClean(result.stdout + result.stderr, args.join(' '))
    }
    await runCli(['config', 'set', 'apiKey', SECRETS.clientKey], {cwd: dir})
    for (const args of [
      ['config', 'list'],
      ['config', 'get', 'apiKey'],
      ['config', 'list', '--json'],
    ]) {
      const result = await runCli(args, {cwd: dir})
      expectClean(result.stdout + result.stderr, args.join(' '))
    }
  })

  it('serve: log lines, error answers, /health, model lists and the board', async () => {
    const serve = spawnCli(
      ['serve', '--port', '0', '--pools-file', await freshPools(), '--api-key', SECRETS.clientKey],
      {home: dir, configDir: join(dir, 'cfg'), env: {DEBUG: 'aiclient'}},
    )
    const [url] = await serve.waitForOutput(/http:\/\/127\.0\.0\.1:\d+/)
    const auth = {authorization: `Bearer ${SECRETS.clientKey}`}
    const answers = [
      await post(
        `${url}/openai-custom/v1/chat/completions`,
        {model: 'm', messages: [{role: 'user', content: 'hi'}]},
        auth,
      ),
      await post(
        `${url}/claude-custom/v1/messages`,
        {model: 'm', max_tokens: 5, messages: [{role: 'user', content: 'hi'}]},
        auth,
      ),
      await post(
        `${url}/openai-qwen-oauth/v1/chat/completions`,
        {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]},
        auth,
      ),
      await post(`${url}/v1/chat/completions?key=${SECRETS.clientKey.slice(0, -1)}x`, {model: 'm', messages: []}),
      await post(`${url}/v1/chat/completions`, {model: 'm', messages: []}, {'x-api-key': 'wrong'}),
    ]
    expect(answers.map((a) => a.status)).toEqual([200, 502, 200, 401, 401])
    const other = [
      await get(`${url}/health`),
      await get(`${url}/v1/models`, auth),
      await get(`${url}/v1beta/models`, auth),
    ]
    for (const answer of [...answers, ...other]) expectClean(answer.text, 'an answer')
    expect(answers[1]!.text, answers[1]!.text).toMatch(/upstream exploded for key sk-…0718/)

    // The client's key never travels upstream.
    for (const fake of [openai, echoing])
      expect(JSON.stringify(fake.requests.map((r) => r.headers))).not.toContain(SECRETS.clientKey)
    serve.child.kill('SIGINT')
    await serve.exit
    expect(serve.output()).toMatch(/\/claude-custom\/v1\/messages claude-custom echo 502/)
    expectClean(serve.output(), 'the server log')
  })

  it('a board frame', async () => {
    const proxy = await startTestProxy(JSON.parse(poolDoc))
    try {
      const data = {
        url: proxy.url,
        startedAt: Date.now(),
        now: Date.now(),
        requestsPerSecond: 0,
        tokensPerSecond: 0,
        total: 0,
        failed: 0,
        rows: buildRows(proxy.state, Date.now()),
        recent: [],
        message: null,
      }
      const frame =
        render(
          <StatusBoard data={data} width={200} height={40} selected={null} filter={null} help={false} />,
        ).lastFrame() ?? ''
      expect(frame).toContain('oa')
      expectClean(frame, 'the board')
    } finally {
      await proxy.cleanup()
    }
  })
})

describe('the incoming key', () => {
  it('accepts only the exact key, whatever its length or shared prefix', () => {
    const key = SECRETS.clientKey
    expect(keyMatches(key, key)).toBe(true)
    for (const wrong of ['', key.slice(0, -1), `${key}x`, key.toUpperCase(), `${key.slice(0, -1)}X`, undefined])
      expect(keyMatches(wrong, key)).toBe(false)
  })

  it('is compared in constant time: digests of equal length through timingSafeEqual', async () => {
    const source = await readFile(new URL('../../src/core/server/auth.ts', import.meta.url), 'utf8')
    expect(source).toMatch(/timingSafeEqual\(digest\(presented \?\? ''\), digest\(expected\)\)/)
    expect(source).not.toMatch(/presented === expected|expected === presented/)
  })
})

describe('names from requests never reach the filesystem', () => {
  it('a provider prefix or model name full of path tricks is only ever a 4xx', async () => {
    const proxy = await startTestProxy(JSON.parse(poolDoc))
    try {
      const before = await readdir(proxy.dir)
      const tricks = [
        ['/..%2F..%2Fetc%2Fpasswd/v1/chat/completions', {model: 'm', messages: [{role: 'user', content: 'x'}]}],
        ['/v1/chat/completions', {model: '../../../../etc/passwd:foo', messages: [{role: 'user', content: 'x'}]}],
        ['/v1beta/models/..%2F..%2Fetc%2Fpasswd:generateContent', {contents: [{role: 'user', parts: [{text: 'x'}]}]}],
      ] as const
      for (const [path, body] of tricks) {
        const answer = await post(`${proxy.url}${path}`, body, {'model-provider': 'openai-custom'})
        expect(answer.status, path).toBeLessThan(500)
        expect(answer.text).not.toMatch(/root:|ENOENT|EACCES/)
      }
      expect(await readdir(proxy.dir)).toEqual(before)
    } finally {
      await proxy.cleanup()
    }
  })
})
