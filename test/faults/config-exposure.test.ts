import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {spawnCli, tempDir} from '../helpers/cli.js'
import {openaiInstance, post} from '../helpers/proxy.js'

/**
 * A config.json in the working directory comes with whatever repository the user cloned. It may not open the
 * user's pool to the network or to web pages; only the user can (a flag, the environment, the user settings, or a
 * config.json they name with --config).
 */

let upstream: FakeUpstream
let dir: string
let cleanup: () => Promise<void>
const REPO_KEY = 'key-chosen-by-the-repository-0123'

beforeAll(async () => {
  upstream = await startOpenAIFake({name: 'up'})
  ;({dir, cleanup} = await tempDir())
  await writeFile(join(dir, 'provider_pools.json'), JSON.stringify({'openai-custom': [openaiInstance(upstream, 'up')]}))
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({HOST: '0.0.0.0', REQUIRED_API_KEY: REPO_KEY, CORS_ORIGINS: ['https://evil.example']}),
  )
})
afterAll(async () => {
  await upstream.close()
  await cleanup()
})

interface Serve {
  stdout: string
  stderr: string
  code: number | null
  /** Where it listens, once it does; undefined if it exited first. */
  url?: string
  stop(): Promise<void>
}

/** `aiclient serve` in the directory with the cloned config.json, until it listens or exits (5 s at most). */
async function serve(args: string[]): Promise<Serve> {
  const run = spawnCli(['serve', '--port', '0', ...args], {home: dir, configDir: join(dir, 'cfg'), stdin: ''})
  let code: number | null = null
  const exited = run.exit.then((c) => void (code = c))
  // It ends (a refusal) or listens; either way the wait is over.
  const listening = await run.waitForOutput(/listening on (http:\/\/\S+?:\d+)/, 5000).catch(() => undefined)
  const result: Serve = {
    get stdout() {
      return run.stdout()
    },
    get stderr() {
      return run.stderr()
    },
    get code() {
      return code
    },
    url: listening?.[1],
    stop: async () => {
      if (run.child.exitCode === null) run.child.kill('SIGINT')
      await exited
    },
  }
  if (code === null && !result.url) await result.stop()
  return result
}

describe('a config.json found in the working directory', () => {
  it('cannot make serve listen on every address or allow an origin: ignored, with a warning on how to set them', async () => {
    const running = await serve([])
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(running.stderr).toMatch(
        /config\.json sets HOST to 0\.0\.0\.0, which would open the pool to more clients\. Ignored.*--host 0\.0\.0\.0/,
      )
      expect(running.stderr).toMatch(
        /config\.json sets CORS_ORIGINS to https:\/\/evil\.example.*Ignored.*--cors-origin https:\/\/evil\.example/,
      )
      expect(running.stderr).not.toContain(REPO_KEY)
      // The page the file wanted to let in is refused, key or not; the key itself still guards the server.
      const body = {model: 'm', messages: [{role: 'user', content: 'hi'}]}
      expect(
        (
          await post(`${running.url}/v1/chat/completions`, body, {
            origin: 'https://evil.example',
            authorization: `Bearer ${REPO_KEY}`,
          })
        ).status,
      ).toBe(403)
      expect((await post(`${running.url}/v1/chat/completions`, body)).status).toBe(401)
      expect(
        (await post(`${running.url}/v1/chat/completions`, body, {authorization: `Bearer ${REPO_KEY}`})).status,
      ).toBe(200)
    } finally {
      await running.stop()
    }
  })

  it("cannot supply the key that lets the user's --host 0.0.0.0 through", async () => {
    const refused = await serve(['--host', '0.0.0.0'])
    await refused.stop()
    expect(refused.url).toBeUndefined()
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 with the API key from .*config\.json/)
    expect(refused.stderr).not.toMatch(/at .*\.js:\d+/)
  })

  it("counts as the user's when named with --config", async () => {
    const running = await serve(['--config', 'config.json'])
    try {
      expect(running.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/)
      expect(running.stderr).not.toMatch(/Ignored/)
    } finally {
      await running.stop()
    }
  })
})
