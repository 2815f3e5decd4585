import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {render} from 'ink-testing-library'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {startFakeGoogleOAuth} from '../fakes/oauth/index.js'
import {buildRows} from '../../src/ui/board/model.js'
import {StatusBoard} from '../../src/ui/board/StatusBoard.js'
import {initialLoginView, plainLines, reduceLoginEvent} from '../../src/ui/auth/login-view.js'
import {LoginScreen} from '../../src/ui/auth/LoginScreen.js'
import {runCli, spawnCli, tempDir} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy} from '../helpers/proxy.js'
import {startServeProcess} from '../helpers/serve-process.js'

/**
 * Text from the pool file, clients and servers reaches log lines and terminals. Planted here: an OSC 52 clipboard
 * write, a window-title change, an 8-bit CSI, a bidi override, and line breaks followed by a forged log line.
 */
const OSC52 = '\u001b]52;c;cm0gLXJmIH4vKg==\u0007'
const FORGED = '2026-01-01T00:00:00.000Z /v1/chat/completions openai-custom forged 200 1ms'
const NAME = `w${OSC52}\n${FORGED}`
const REASON = `auth\u001b]0;owned\u0007\u009b2J\u202e\nforged reason`
const MODEL = `x\n200 POST forged${OSC52}`

/** No control character but the line breaks (and, in Ink frames, the colours) we draw ourselves. */
function expectInert(text: string, where: string): void {
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '')
  expect(plain, where).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
  expect(plain, `${where}: a forged line`).not.toMatch(/^\s*(2026-01-01|forged|200 POST)/m)
}

let dir: string
let cleanup: () => Promise<void>
let upstream: FakeUpstream

beforeAll(async () => {
  ;({dir, cleanup} = await tempDir())
  // An upstream that quotes the model in its error message, which the proxy passes on and logs.
  upstream = await startOpenAIFake({
    name: 'up',
    script: {handler: (req) => ({kind: 'status', status: 500, message: `model ${req.model} exploded`})},
  })
})

afterAll(async () => {
  await upstream.close()
  await cleanup()
})

function hostilePool(): Record<string, unknown> {
  return {
    'openai-custom': [
      {
        ...openaiInstance(upstream, 'w'),
        customName: NAME,
        isHealthy: false,
        errorCount: 3,
        lastErrorTime: new Date().toISOString(),
        lastErrorReason: REASON,
      },
    ],
  }
}

describe('control characters from the pool file', () => {
  it('pool list shows names and reasons escaped, one row per instance; --json keeps them exactly', async () => {
    const pools = join(dir, 'list.json')
    await writeFile(pools, JSON.stringify(hostilePool()))
    const table = await runCli(['pool', 'list', '--pools-file', pools], {cwd: dir})
    expect(table.code).toBe(0)
    expectInert(table.stdout + table.stderr, 'pool list')
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2)
    // The name column is shrunk to fit 120 columns; the state column shows the reason whole.
    expect(table.stdout).toContain('w\\x1b')
    expect(table.stdout).toContain('auth\\x1b]0;owned\\x07\\x9b2J\\u202e\\nforged reason')

    const json = await runCli(['pool', 'list', '--json', '--pools-file', pools], {cwd: dir})
    expectInert(json.stdout, 'pool list --json')
    const [instance] = JSON.parse(json.stdout)
    expect(instance).toMatchObject({customName: NAME, lastErrorReason: REASON})
  })

  it('pool check prints the name escaped, in its progress line and its errors', async () => {
    const pools = join(dir, 'check.json')
    // Nothing listens there: the probe fails with a network error.
    await writeFile(
      pools,
      JSON.stringify({
        'openai-custom': [
          {...openaiInstance(upstream, 'w'), OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', customName: NAME},
        ],
      }),
    )
    const result = await runCli(['pool', 'check', '--cheap', '--timeout', '2s', '--pools-file', pools], {cwd: dir})
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('w\\x1b]52')
    expectInert(result.stdout + result.stderr, 'pool check')
  })

  it('the board frame shows names, reasons, models and messages escaped', async () => {
    const proxy = await startTestProxy(hostilePool())
    try {
      const now = Date.now()
      const recent = [
        {
          time: now,
          route: '/v1/chat/completions',
          protocol: 'openai' as const,
          type: 'openai-custom' as const,
          instance: NAME,
          model: MODEL,
          status: 404,
          ms: 3,
          attempts: 1,
          stream: false,
          error: REASON,
        },
      ]
      const data = {
        url: proxy.url,
        startedAt: now,
        now,
        requestsPerSecond: 0,
        tokensPerSecond: 0,
        total: 1,
        failed: 0,
        rows: buildRows(proxy.state, now),
        recent,
        message: `warning: ${REASON}`,
      }
      const frame =
        render(
          <StatusBoard data={data} width={220} height={30} selected={null} filter={null} help={false} />,
        ).lastFrame() ?? ''
      expect(frame).toContain('w\\x1b]52')
      expect(frame).toContain('x\\n200 POST forged')
      expectInert(frame, 'the board')
    } finally {
      await proxy.cleanup()
    }
  })
})

describe('control characters from clients and upstreams', () => {
  it("serve's log line for a request stays one line, whatever the model and instance names hold", async () => {
    const serveDir = join(dir, 'serve')
    const {mkdir} = await import('node:fs/promises')
    await mkdir(serveDir, {recursive: true})
    const pool = hostilePool()
    ;(pool['openai-custom'] as Array<Record<string, unknown>>)[0]!.isHealthy = true
    const serve = await startServeProcess(serveDir, pool)
    const answer = await post(`${serve.url}/v1/chat/completions`, {
      model: MODEL,
      messages: [{role: 'user', content: 'hi'}],
    })
    expect(answer.status).toBe(502)
    expect(await serve.stop()).toBe(0)
    const lines = serve
      .output()
      .split('\n')
      .filter((line) => line.includes('/v1/chat/completions'))
    expect(lines, serve.output()).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^\S+Z \/v1\/chat\/completions openai-custom w\\x1b\]52;c;\S+\\x07\\n2026-01-01T00:00:00\.000Z .* 502 /,
    )
    expect(lines[0]).toContain('x\\n200 POST forged\\x1b]52')
    expectInert(serve.output(), 'the serve log')
  })

  it('a login screen shows what OAuth servers and pastes send escaped', () => {
    let state = reduceLoginEvent(initialLoginView, {type: 'notice', message: `hello${OSC52}\nforged`})
    const before = state
    state = reduceLoginEvent(state, {
      type: 'device_code',
      url: `https://example.com/device\u001b]0;t\u0007`,
      userCode: `AB\u009bCD`,
      expiresAt: Date.now() + 60_000,
    })
    state = reduceLoginEvent(state, {type: 'callback_rejected', message: `bad\r\nforged`})
    const text = [...plainLines(initialLoginView, before, Date.now()), ...plainLines(before, state, Date.now())].join(
      '\n',
    )
    expect(text).toContain('hello\\x1b]52')
    expect(text).toContain('AB\\x9bCD')
    expectInert(text, 'the login screen')
  })

  it('the login input line shows a paste escaped: a clipboard a web page filled cannot drive the terminal', async () => {
    const state = reduceLoginEvent(initialLoginView, {
      type: 'authorize',
      url: 'https://kiro/login',
      callback: 'paste',
      expiresAt: Date.now() + 600_000,
    })
    const screen = render(<LoginScreen state={state} onCancel={() => {}} onPaste={() => {}} />)
    await new Promise((r) => setTimeout(r, 20))
    screen.stdin.write(`kiro://x?code=c\u009b2J\u009d0;owned\u009c\u202e`)
    await new Promise((r) => setTimeout(r, 20))
    const frame = screen.lastFrame() ?? ''
    expect(frame).toContain('kiro://x?code=c\\x9b2J\\x9d0;owned\\x9c\\u202e')
    expectInert(frame, 'the input line')
    screen.unmount()
  })

  it('auth login gemini: an account name and a provider error from the servers reach the terminal escaped', async () => {
    const fake = await startFakeGoogleOAuth({email: `dev${OSC52}@example.com\n${FORGED}`})
    try {
      const ok = spawnCli(
        ['auth', 'login', 'gemini', '--no-browser', '--project-id', 'p', '-o', join(dir, 'g1.json')],
        {home: dir, env: {CI: 'true', ...fake.env}},
      )
      const [, url] = await ok.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
      await fake.browse(url!)
      expect(await ok.exit).toBe(0)
      expect(ok.stdout()).toContain('as dev\\x1b]52')
      expectInert(ok.stdout() + ok.stderr(), 'a login')

      const denied = spawnCli(['auth', 'login', 'gemini', '--no-browser', '-o', join(dir, 'g2.json')], {
        home: dir,
        env: {CI: 'true', ...fake.env},
      })
      const [, url2] = await denied.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
      await fake.browse(url2!, {error: `access_denied${OSC52}\n${FORGED}`})
      expect(await denied.exit).toBe(1)
      expect(denied.stderr()).toContain('access_denied\\x1b]52')
      expectInert(denied.stdout() + denied.stderr(), 'a denied login')
    } finally {
      await fake.close()
    }
  })
})
