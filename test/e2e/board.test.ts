import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {BIN, tempDir} from '../helpers/cli.js'
import {post} from '../helpers/proxy.js'
import {startTmux} from '../helpers/tmux.js'

let session: Awaited<ReturnType<typeof startTmux>> | undefined
let cleanup: (() => Promise<void>) | undefined

afterEach(async () => {
  await session?.kill()
  await cleanup?.()
})

it('serve --watch --demo: counts move with traffic, d disables in the pool file, q exits 0 and saves statistics', async () => {
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  const pools = join(tmp.dir, 'pools.json')
  session = await startTmux(
    `sh -c '${process.execPath} ${BIN} serve --watch --demo --port 0 --pools-file ${pools}; echo EXIT:$?'`,
    {PATH: process.env.PATH ?? '', HOME: tmp.dir, AICLIENT_CONFIG_DIR: join(tmp.dir, 'cfg')},
    {width: 80, height: 24},
  )
  const screen = (pattern: RegExp) => session!.waitFor((s) => pattern.test(s))
  const first = await screen(/aiclient http:\/\/127\.0\.0\.1:\d+ .*total 0/)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(first)![0]
  expect(first).toMatch(/openai-custom \(2\/2 healthy\)/)
  expect(first).toMatch(/› openai-a\s+● healthy\s+0\s+0/)
  for (const line of first.split('\n')) expect(line.length).toBeLessThanOrEqual(80)

  for (let i = 0; i < 6; i++)
    expect(
      (await post(`${url}/v1/chat/completions`, {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]}))
        .status,
    ).toBe(200)
  const moved = await screen(/total 6/)
  expect(moved).toMatch(/openai → openai-custom\/openai-(a|flaky) gpt-4o-mini 200/)
  expect(moved).toMatch(/openai-a\s+● healthy\s+0\s+3/)

  await session.sendKeys('d')
  await screen(/openai-a\s+○ disabled/)
  const stored = JSON.parse(await readFile(pools, 'utf8'))['openai-custom'][0]
  expect(stored).toMatchObject({customName: 'openai-a', isDisabled: true})

  await session.sendKeys('q')
  await screen(/EXIT:0/)
  const after = JSON.parse(await readFile(pools, 'utf8'))['openai-custom']
  expect(after[0].usageCount + after[1].usageCount).toBe(6)
}, 30_000)

it('serve --watch without a terminal, or with CI set, falls back to log lines', async () => {
  const tmp = await tempDir()
  cleanup = tmp.cleanup
  session = await startTmux(
    `sh -c 'trap true INT; ${process.execPath} ${BIN} serve --watch --demo --port 0 --pools-file ${join(tmp.dir, 'p.json')}; echo EXIT:$?'`,
    {
      PATH: process.env.PATH ?? '',
      HOME: tmp.dir,
      AICLIENT_CONFIG_DIR: join(tmp.dir, 'cfg'),
      CI: 'true',
    },
  )
  const screen = (pattern: RegExp) => session!.waitFor((s) => pattern.test(s))
  const started = await screen(/aiclient listening on http:\/\/127\.0\.0\.1:\d+/)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(started)![0]
  await post(`${url}/v1/chat/completions`, {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]})
  await screen(/\/v1\/chat\/completions openai-custom openai-a 200 \d+ms/)
  await session.sendKeys('C-c')
  await screen(/EXIT:0/)
}, 20_000)
