import {join} from 'node:path'
import {afterEach, expect, it} from 'vitest'
import {startFakeQwenOAuth, type FakeQwenOAuth} from '../fakes/oauth/index.js'
import {BIN, tempDir} from '../helpers/cli.js'
import {hasTmux, startTmux} from '../helpers/tmux.js'

let fake: FakeQwenOAuth | undefined
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await fake?.close()
})

it.skipIf(!hasTmux)(
  'auth login qwen in a terminal: code box, URL, a running countdown, then the summary',
  async () => {
    // The server's interval (1 s) beats qwen-code's 2 s default, which keeps the test short.
    fake = await startFakeQwenOAuth({interval: 1})
    const {dir, cleanup} = await tempDir('aiclient-tmux-')
    cleanups.push(cleanup)
    const session = await startTmux(`sh -c '${process.execPath} ${BIN} auth login qwen --no-browser; echo EXIT:$?'`, {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AICLIENT_CONFIG_DIR: join(dir, 'cfg'),
      ...fake.env,
    })
    cleanups.push(session.kill)

    // The screen is drawn in more than one write: wait for the link too, not only the code and the countdown.
    const first = await session.waitFor(
      (s) => /Code: QW\w+/.test(s) && /\d+:\d\d left/.test(s) && s.includes(`${fake!.url}/authorize?`),
    )
    const code = /Code: (QW\w+)/.exec(first)![1]!
    expect(first).toContain(`${fake.url}/authorize?user_code=${code}&client=qwen-code`)
    expect(first).toMatch(/[╭─]+╮/)
    expect(first).toMatch(/Waiting for approval · (30:00|29:5\d) left/)
    const left = (screen: string) => /(\d+:\d\d) left/.exec(screen)![1]
    await session.waitFor((s) => /\d+:\d\d left/.test(s) && left(s) !== left(first), 3000)

    fake.approve()
    const last = await session.waitFor((s) => s.includes('EXIT:'), 10_000)
    expect(last).toContain('EXIT:0')
    expect(last).toContain('✔ Signed in to Qwen')
    expect(last).toContain(`Signed in to Qwen: wrote ${join(dir, '.qwen', 'oauth_creds.json')} (token valid until`)
    expect(last).not.toContain('Code: QW')
  },
  20_000,
)
