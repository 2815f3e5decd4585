import {spawn} from 'node:child_process'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {BIN, tempDir} from '../helpers/cli.js'
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
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--pools-file', pools], {
    cwd: tmp.dir,
    env: {PATH: process.env.PATH, HOME: tmp.dir, AICLIENT_CONFIG_DIR: join(tmp.dir, 'cfg')},
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const deadline = Date.now() + 10_000
  while (!/http:\/\/127\.0\.0\.1:\d+/.test(stdout)) {
    if (Date.now() > deadline) throw new Error(`serve did not start: ${stdout} ${stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  expect(stdout).toMatch(/openai-custom: 1/)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)![0]
  for (let i = 0; i < 3; i++) expect((await post(`${url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})).status).toBe(200)
  await new Promise((r) => setTimeout(r, 100))
  child.kill('SIGINT')
  expect(await exited).toBe(0)
  const lines = stdout.split('\n').filter((l) => l.includes('/v1/chat/completions'))
  expect(lines).toHaveLength(3)
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ \/v1\/chat\/completions openai-custom up 200 \d+ms$/)
  expect(stdout + stderr).not.toContain('sk-PLANTED')
  const stored = JSON.parse(await readFile(pools, 'utf8'))['openai-custom'][0]
  expect(stored.usageCount).toBe(3)
}, 20_000)

it('refuses a non-loopback host without an API key', async () => {
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '0.0.0.0', '--port', '0'], {cwd: tmp.dir, env: {PATH: process.env.PATH, HOME: tmp.dir, AICLIENT_CONFIG_DIR: join(tmp.dir, 'cfg')}})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  expect(code).toBe(2)
  expect(stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without an API key/)
})
