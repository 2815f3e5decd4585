import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {startFakeGoogleOAuth} from '../fakes/oauth/index.js'
import {BIN, spawnCli, tempDir} from '../helpers/cli.js'
import {openaiInstance, post, waitFor} from '../helpers/proxy.js'
import {startServeProcess} from '../helpers/serve-process.js'
import {hasTmux, startTmux} from '../helpers/tmux.js'
import {refused} from '../oauth/helpers/login-env.js'

/**
 * A closed terminal or a dropped SSH session sends SIGHUP, and the terminal is gone for any later write.
 * Long-running commands end cleanly then: serve saves its statistics (flushed at most 1 s after they change),
 * a login writes nothing, a check records what it found.
 */

const HANGUP_SHELL = fileURLToPath(new URL('../helpers/hangup-shell.mjs', import.meta.url))
const REQUEST = {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]}

let dir: string
let cleanup: () => Promise<void>
let upstream: FakeUpstream
let n = 0
const after: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  ;({dir, cleanup} = await tempDir())
  upstream = await startOpenAIFake({name: 'up'})
})

afterEach(async () => {
  for (const undo of after.splice(0).reverse()) await undo()
})

afterAll(async () => {
  await upstream.close()
  await cleanup()
})

async function freshDir(): Promise<string> {
  const path = join(dir, `case-${++n}`)
  await mkdir(path)
  return path
}

const usage = async (poolsFile: string) =>
  (JSON.parse(await readFile(poolsFile, 'utf8'))['openai-custom'] as Array<{usageCount: number}>).map(
    (i) => i.usageCount,
  )

describe('serve', () => {
  it('SIGHUP: finishes, saves the pending statistics, and ends with the hangup status', async () => {
    const home = await freshDir()
    const serve = await startServeProcess(home, {'openai-custom': [openaiInstance(upstream, 'a')]})
    for (let i = 0; i < 3; i++) expect((await post(`${serve.url}/v1/chat/completions`, REQUEST)).status).toBe(200)
    // The positive control: the counts are still only in memory.
    expect(await usage(join(home, 'provider_pools.json'))).toEqual([0])
    expect(await serve.stop('SIGHUP')).toBe(129)
    expect(await usage(join(home, 'provider_pools.json'))).toEqual([3])
    expect(serve.output()).toContain('Shutting down: finishing running requests and saving statistics')
    expect(serve.output()).not.toMatch(/Error|\n\s+at /)
  })

  it('when the reader of its output goes away, it saves and ends as on SIGHUP instead of serving on unheard', async () => {
    const home = await freshDir()
    const serve = await startServeProcess(home, {'openai-custom': [openaiInstance(upstream, 'a')]})
    serve.closeOutput()
    // The request is answered; writing its log line fails, and that ends serving.
    expect((await post(`${serve.url}/v1/chat/completions`, REQUEST)).status).toBe(200)
    const status = await Promise.race([
      serve.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 8000)),
    ])
    expect(status).toBe(129)
    expect(await usage(join(home, 'provider_pools.json'))).toEqual([1])
  })

  it.skipIf(!hasTmux)(
    'serve --watch in a terminal that hangs up: statistics saved, no abort on exit',
    async () => {
      const home = await freshDir()
      const pools = join(home, 'pools.json')
      await writeFile(pools, JSON.stringify({'openai-custom': [openaiInstance(upstream, 'a')]}))
      const status = join(home, 'status.json')
      const session = await startTmux(
        `${process.execPath} ${HANGUP_SHELL} ${status} ${process.execPath} ${BIN} serve --watch --port 0 --pools-file ${pools}`,
        {
          PATH: process.env.PATH ?? '',
          HOME: home,
          AICLIENT_CONFIG_DIR: join(home, 'cfg'),
        },
      )
      after.push(session.kill)
      const screen = await session.waitFor((s) => /aiclient http:\/\/127\.0\.0\.1:\d+ .*total 0/.test(s))
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(screen)![0]
      for (let i = 0; i < 4; i++) expect((await post(`${url}/v1/chat/completions`, REQUEST)).status).toBe(200)
      expect(await usage(pools)).toEqual([0])
      // Closing the terminal: the shell gets SIGHUP and passes it on; every later write fails with EIO.
      await session.kill()
      await waitFor(async () => (await readFile(status, 'utf8').catch(() => '')) !== '', 15_000, 'serve to end')
      expect(JSON.parse(await readFile(status, 'utf8'))).toEqual({code: null, signal: 'SIGHUP'})
      expect(await usage(pools)).toEqual([4])
    },
    30_000,
  )
})

describe('pool check', () => {
  it('SIGTERM stops the check, records the results it has, and exits 143', async () => {
    const home = await freshDir()
    const hanging = await startOpenAIFake({name: 'hang', script: {fallback: {kind: 'hang'}}})
    after.push(() => hanging.close())
    const pools = join(home, 'pools.json')
    await writeFile(
      pools,
      JSON.stringify({'openai-custom': [openaiInstance(upstream, 'quick'), openaiInstance(hanging, 'stuck')]}),
    )
    const run = spawnCli(['pool', 'check', '--timeout', '60s', '--pools-file', pools], {home, env: {CI: 'true'}})
    await waitFor(() => /quick healthy/.test(run.stdout()) && hanging.count === 1, 10_000, 'the first result')
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(143)
    expect(run.stdout()).toMatch(/stuck skipped — check cancelled/)
    expect(run.stdout()).toMatch(/1 healthy, 0 unhealthy, 0 cooling, 1 skipped/)
    const [quick, stuck] = JSON.parse(await readFile(pools, 'utf8'))['openai-custom']
    expect(quick.lastHealthCheckTime).toEqual(expect.any(String))
    expect(stuck.lastHealthCheckTime).toBeUndefined()
    expect(stuck.isHealthy).toBe(true)
  })
})

describe('auth login', () => {
  it('SIGHUP cancels like Ctrl-C: listener closed, nothing written, the hangup status', async () => {
    const home = await freshDir()
    const fake = await startFakeGoogleOAuth()
    after.push(() => fake.close())
    const run = spawnCli(['auth', 'login', 'gemini', '--no-browser'], {home, env: {CI: 'true', ...fake.env}})
    const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
    const port = Number(new URL(new URL(url!).searchParams.get('redirect_uri')!).port)
    run.child.kill('SIGHUP')
    expect(await run.exit).toBe(null)
    expect(run.child.signalCode).toBe('SIGHUP')
    expect(run.stderr()).toMatch(/^Error: Cancelled\.$/m)
    expect(await refused(port)).toBe(true)
    await expect(readFile(join(home, '.gemini', 'oauth_creds.json'))).rejects.toThrow(/ENOENT/)
  })

  it('SIGTERM cancels too, with exit 143', async () => {
    const home = await freshDir()
    const fake = await startFakeGoogleOAuth()
    after.push(() => fake.close())
    const run = spawnCli(['auth', 'login', 'gemini', '--no-browser'], {home, env: {CI: 'true', ...fake.env}})
    await run.waitForStderr(/^http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?/m)
    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(143)
    expect(run.stderr()).toMatch(/^Error: Cancelled\.$/m)
  })
})
