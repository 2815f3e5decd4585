import {expect, it} from 'vitest'
import {startOpenAIFake} from '../fakes/index.js'
import {runCli} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, waitFor, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

it('pool add and pool disable from another process take effect within a second, and nothing is lost', async () => {
  const first = await startOpenAIFake({name: 'first'})
  const second = await startOpenAIFake({name: 'second'})
  h.fakes = [first, second]
  h.proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(first, 'first')], notes: 'kept'},
    {flushDelayMs: 1000, pollMs: 250},
  )
  const chat = () =>
    post(`${h.proxy!.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
  for (let i = 0; i < 5; i++) expect((await chat()).status).toBe(200)
  const servedAt = Date.now()
  await waitFor(
    async () => (await h.proxy!.readPool())['openai-custom']![0]!.usageCount === 5,
    2000,
    'statistics on disk',
  )
  expect(Date.now() - servedAt).toBeLessThan(1500)

  const added = await runCli(
    [
      'pool',
      'add',
      'openai-custom',
      '--key',
      'sk-second-0123456789abcdef',
      '--base-url',
      second.baseUrl,
      '--name',
      'second',
      '--pools-file',
      h.proxy.poolsFile,
    ],
    {cwd: h.proxy.dir},
  )
  expect(added.code, added.stderr).toBe(0)
  const addedAt = Date.now()
  await waitFor(() => h.proxy!.state.list('openai-custom').length === 2, 1500, 'the new instance')
  expect(Date.now() - addedAt).toBeLessThan(1000)
  for (let i = 0; i < 6; i++) expect((await chat()).status).toBe(200)
  expect(second.completed).toBe(3)

  const disabled = await runCli(['pool', 'disable', 'first', '--pools-file', h.proxy.poolsFile], {cwd: h.proxy.dir})
  expect(disabled.code, disabled.stderr).toBe(0)
  const disabledAt = Date.now()
  await waitFor(() => h.proxy!.state.list('openai-custom')[0]!.disabled, 1500, 'the disable')
  expect(Date.now() - disabledAt).toBeLessThan(1000)
  const servedByFirst = first.completed
  for (let i = 0; i < 4; i++) expect((await chat()).status).toBe(200)
  expect(first.completed).toBe(servedByFirst)

  await h.proxy.stop()
  const pool = await h.proxy.readPool()
  expect(pool.notes).toBe('kept')
  const [a, b] = pool['openai-custom']!
  expect(a).toMatchObject({customName: 'first', isDisabled: true, usageCount: first.completed})
  expect(b).toMatchObject({
    customName: 'second',
    usageCount: second.completed,
    OPENAI_API_KEY: 'sk-second-0123456789abcdef',
  })
}, 20_000)

it('counters survive a restart and add to what the file holds', async () => {
  const fake = await startOpenAIFake({name: 'one'})
  h.fakes = [fake]
  h.proxy = await startTestProxy({'openai-custom': [{...openaiInstance(fake, 'one'), usageCount: 40, errorCount: 2}]})
  for (let i = 0; i < 3; i++)
    await post(`${h.proxy.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
  await h.proxy.stop()
  expect((await h.proxy.readPool())['openai-custom']![0]).toMatchObject({usageCount: 43, errorCount: 2})
})
