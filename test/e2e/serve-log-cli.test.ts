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

async function home() {
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  return {dir: tmp.dir, spawn: {home: tmp.dir, configDir: join(tmp.dir, 'cfg')}}
}

it('serve --log-bodies warns at start, and the log holds the bodies without the key once stopped', async () => {
  fake = await startOpenAIFake({name: 'up'})
  const {dir, spawn} = await home()
  const pools = join(dir, 'provider_pools.json')
  const key = 'sk-PLANTED-cli-key-0123456789abcdef'
  await writeFile(pools, JSON.stringify({'openai-custom': [openaiInstance(fake, 'up', key)]}))
  const serve = spawnCli(
    ['serve', '--port', '0', '--pools-file', pools, '--log-file', 'requests.jsonl', '--log-bodies'],
    spawn,
  )
  const [url] = await serve.waitForOutput(/http:\/\/127\.0\.0\.1:\d+/)
  const file = join(dir, 'requests.jsonl')
  expect(serve.stderr()).toContain(
    `warning: --log-bodies: request and response bodies (the first 64 KiB of each) are written to ${file}`,
  )
  const body = {model: 'm', messages: [{role: 'user', content: `the key is ${key}`}]}
  expect((await post(`${url}/v1/chat/completions`, body)).status).toBe(200)
  serve.child.kill('SIGINT')
  expect(await serve.exit).toBe(0)
  const text = await readFile(file, 'utf8')
  expect(text).not.toContain('sk-PLANTED')
  const [line, ...rest] = text.trimEnd().split('\n')
  expect(rest).toEqual([])
  expect(JSON.parse(line!)).toMatchObject({
    route: '/v1/chat/completions',
    status: 200,
    requestBody: expect.stringContaining('the key is sk-…cdef'),
    responseBody: expect.stringContaining('chat.completion'),
  })
}, 20_000)

it.each([
  [
    ['--log-file', 'r.jsonl', '--log-max-size', '10XB'],
    /--log-max-size must be a size such as 512KB or 10MB, not "10XB"/,
  ],
  [['--log-file', 'missing/r.jsonl'], /--log-file \S+\/missing\/r\.jsonl: the directory \S+\/missing does not exist/],
  [['--log-bodies'], /--log-file/],
  [['--log-max-size', '1MB'], /--log-file/],
])('serve %j exits 2 before listening', async (args, message) => {
  const {spawn} = await home()
  const serve = spawnCli(['serve', '--port', '0', ...args], spawn)
  expect(await serve.exit).toBe(2)
  expect(serve.stderr()).toMatch(message)
  expect(serve.output()).not.toMatch(/listening/)
})
