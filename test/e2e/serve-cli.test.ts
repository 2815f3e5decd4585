import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {spawnCli, tempDir} from '../helpers/cli.js'
import {openaiInstance, post} from '../helpers/proxy.js'

let fake: FakeUpstream | undefined
let cleanup: (() => Promise<void>) | undefined

afterEach(async () => {
  await fake?.close()
  await cleanup?.()
})

it('serve prints its URL, logs one line per request without a TTY, and saves statistics on SIGINT', async () => {
  fake = await startOpenAIFake({name: 'up'})
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  const pools = join(tmp.dir, 'provider_pools.json')
  await writeFile(pools, JSON.stringify({'openai-custom': [openaiInstance(fake, 'up', 'sk-PLANTED-secret-123456789')]}))
  const serve = spawnCli(['serve', '--port', '0', '--pools-file', pools], {
    home: tmp.dir,
    configDir: join(tmp.dir, 'cfg'),
  })
  const [url] = await serve.waitForOutput(/http:\/\/127\.0\.0\.1:\d+/)
  const stdout = () => serve.stdout()
  expect(stdout()).toMatch(/openai-custom: 1/)
  for (let i = 0; i < 3; i++)
    expect(
      (await post(`${url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})).status,
    ).toBe(200)
  await new Promise((r) => setTimeout(r, 100))
  serve.child.kill('SIGINT')
  expect(await serve.exit).toBe(0)
  const lines = stdout()
    .split('\n')
    .filter((l) => l.includes('/v1/chat/completions'))
  expect(lines).toHaveLength(3)
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ \/v1\/chat\/completions openai-custom up 200 \d+ms$/)
  expect(stdout() + serve.stderr()).not.toContain('sk-PLANTED')
  const stored = JSON.parse(await readFile(pools, 'utf8'))['openai-custom'][0]
  expect(stored.usageCount).toBe(3)
}, 20_000)

it('refuses a non-loopback host without an API key', async () => {
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  const serve = spawnCli(['serve', '--host', '0.0.0.0', '--port', '0'], {
    home: tmp.dir,
    configDir: join(tmp.dir, 'cfg'),
  })
  expect(await serve.exit).toBe(2)
  expect(serve.stderr()).toMatch(/Refusing to listen on 0\.0\.0\.0 without an API key/)
})
