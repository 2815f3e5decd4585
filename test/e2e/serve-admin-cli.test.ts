import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {spawnCli, tempDir, type CliProcess} from '../helpers/cli.js'
import {openaiInstance, post, waitFor} from '../helpers/proxy.js'

let fake: FakeUpstream | undefined
let serve: CliProcess | undefined
let cleanup: (() => Promise<void>) | undefined

afterEach(async () => {
  serve?.child.kill('SIGINT')
  await serve?.exit
  await fake?.close()
  await cleanup?.()
})

it('serve --allow-local-admin takes management POSTs without a key; without it they are refused', async () => {
  fake = await startOpenAIFake({name: 'up'})
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  const pools = join(tmp.dir, 'provider_pools.json')
  await writeFile(pools, JSON.stringify({'openai-custom': [openaiInstance(fake, 'up')]}))
  const start = async (...flags: string[]) => {
    serve = spawnCli(['serve', '--port', '0', '--pools-file', pools, ...flags], {
      home: tmp.dir,
      configDir: join(tmp.dir, 'cfg'),
    })
    const [url] = await serve.waitForOutput(/http:\/\/127\.0\.0\.1:\d+/)
    return url
  }
  const disabled = async () => JSON.parse(await readFile(pools, 'utf8'))['openai-custom'][0].isDisabled === true

  const refusing = await start()
  expect((await post(`${refusing}/aiclient/v1/instances/up/disable`, '')).status).toBe(403)
  serve!.child.kill('SIGINT')
  expect(await serve!.exit).toBe(0)
  expect(await disabled()).toBe(false)

  const allowing = await start('--allow-local-admin')
  const answer = await post(`${allowing}/aiclient/v1/instances/up/disable`, '')
  expect(answer.status).toBe(200)
  expect(answer.json()).toMatchObject({action: 'disable', instance: {name: 'up', state: 'disabled'}})
  await waitFor(disabled)
})
