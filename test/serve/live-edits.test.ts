import {afterEach, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {runCli} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, waitFor, type TestProxy} from '../helpers/proxy.js'

let fakes: FakeUpstream[] = []
let proxy: TestProxy | undefined

afterEach(async () => {
  await proxy?.cleanup()
  proxy = undefined
  await Promise.all(fakes.map((f) => f.close()))
  fakes = []
})

it('pool add and pool disable from another process take effect within a second, and nothing is lost', async () => {
  const first = await startOpenAIFake({name: 'first'})
  const second = await startOpenAIFake({name: 'second'})
  fakes = [first, second]
  proxy = await startTestProxy({'openai-custom': [openaiInstance(first, 'first')], notes: 'kept'}, {flushDelayMs: 1000, pollMs: 250})
  const chat = () => post(`${proxy!.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
  for (let i = 0; i < 5; i++) expect((await chat()).status).toBe(200)
  const servedAt = Date.now()
  await waitFor(async () => (await proxy!.readPool())['openai-custom']![0]!.usageCount === 5, 2000, 'statistics on disk')
  expect(Date.now() - servedAt).toBeLessThan(1500)

  const added = await runCli(['pool', 'add', 'openai-custom', '--key', 'sk-second-0123456789abcdef', '--base-url', second.baseUrl, '--name', 'second', '--pools-file', proxy.poolsFile], {cwd: proxy.dir})
  expect(added.code, added.stderr).toBe(0)
  const addedAt = Date.now()
  await waitFor(() => proxy!.state.list('openai-custom').length === 2, 1500, 'the new instance')
  expect(Date.now() - addedAt).toBeLessThan(1000)
  for (let i = 0; i < 6; i++) expect((await chat()).status).toBe(200)
  expect(second.completed).toBe(3)

  const disabled = await runCli(['pool', 'disable', 'first', '--pools-file', proxy.poolsFile], {cwd: proxy.dir})
  expect(disabled.code, disabled.stderr).toBe(0)
  const disabledAt = Date.now()
  await waitFor(() => proxy!.state.list('openai-custom')[0]!.disabled, 1500, 'the disable')
  expect(Date.now() - disabledAt).toBeLessThan(1000)
  const servedByFirst = first.completed
  for (let i = 0; i < 4; i++) expect((await chat()).status).toBe(200)
  expect(first.completed).toBe(servedByFirst)

  await proxy.stop()
  const pool = await proxy.readPool()
  expect(pool.notes).toBe('kept')
  const [a, b] = pool['openai-custom']!
  expect(a).toMatchObject({customName: 'first', isDisabled: true, usageCount: first.completed})
  expect(b).toMatchObject({customName: 'second', usageCount: second.completed, OPENAI_API_KEY: 'sk-second-0123456789abcdef'})
}, 20_000)

it('counters survive a restart and add to what the file holds', async () => {
  const fake = await startOpenAIFake({name: 'one'})
  fakes = [fake]
  proxy = await startTestProxy({'openai-custom': [{...openaiInstance(fake, 'one'), usageCount: 40, errorCount: 2}]})
  for (let i = 0; i < 3; i++) await post(`${proxy.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
  await proxy.stop()
  expect((await proxy.readPool())['openai-custom']![0]).toMatchObject({usageCount: 43, errorCount: 2})
})
