import {render} from 'ink-testing-library'
import {describe, expect, it, vi} from 'vitest'
import {formatRemaining, initialLoginView, plainLines, reduceLoginEvent, type LoginViewState} from './login-view.js'
import {LoginScreen} from './LoginScreen.js'

const NOW = 1_800_000_000_000
const tick = () => new Promise((r) => setTimeout(r, 20))
// Printing a log line clears the live area first, which the testing library records as an empty frame.
const shown = (screen: ReturnType<typeof render>) =>
  screen.frames
    .filter((f) => f !== '')
    .at(-1)
    ?.replace(/\x1b\[[0-9;]*m/g, '')

function viewOf(...events: Parameters<typeof reduceLoginEvent>[1][]): LoginViewState {
  return events.reduce(reduceLoginEvent, initialLoginView)
}

describe('login view', () => {
  it('formats what is left', () => {
    expect([
      formatRemaining(0),
      formatRemaining(-5),
      formatRemaining(61_000),
      formatRemaining(1_799_001),
      formatRemaining(3_723_000),
    ]).toEqual(['0:00', '0:00', '1:01', '30:00', '1:02:03'])
  })

  it('prints each change once without a terminal', () => {
    const a = viewOf({type: 'notice', message: 'heads up'})
    const b = reduceLoginEvent(a, {
      type: 'device_code',
      url: 'https://x/a',
      userCode: 'AB-12',
      expiresAt: NOW + 600_000,
    })
    const c = reduceLoginEvent(b, {type: 'poll', outcome: 'slow_down', nextPollMs: 3000})
    const d = reduceLoginEvent(c, {type: 'poll', outcome: 'pending', nextPollMs: 2000})
    const e = reduceLoginEvent(d, {type: 'step', message: 'Looking up the profile'})
    expect(
      [a, b, c, d, e].reduce<{prev: LoginViewState; lines: string[]}>(
        (acc, next) => ({prev: next, lines: [...acc.lines, ...plainLines(acc.prev, next, NOW)]}),
        {prev: initialLoginView, lines: []},
      ).lines,
    ).toEqual([
      'Note: heads up',
      'Open this URL to approve the login:',
      'https://x/a',
      'Code: AB-12 (expires in 10:00)',
      'Waiting for approval…',
      'The server asked us to slow down: polling every 3 s.',
      'Looking up the profile…',
    ])
  })
})

describe('<LoginScreen>', () => {
  it('shows the code in a box, a countdown and a spinner, and prints the URL above, whole', async () => {
    const state = viewOf({
      type: 'device_code',
      url: `https://example.com/${'a'.repeat(150)}`,
      userCode: 'QW-CODE',
      expiresAt: NOW + 125_000,
    })
    const screen = render(<LoginScreen state={state} onCancel={() => {}} now={() => NOW} />)
    await tick()
    const frame = shown(screen)!
    expect(frame).toMatch(/╭─+╮\n│ +Code: QW-CODE +│\n╰─+╯/)
    expect(frame).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for approval · 2:05 left$/m)
    expect(frame).toContain('Esc or Ctrl-C to cancel')
    expect(screen.stderr.frames.join('')).toContain(`https://example.com/${'a'.repeat(150)}\n`)
    screen.unmount()
  })

  it('cancels on Ctrl-C and Esc', async () => {
    const onCancel = vi.fn()
    const screen = render(<LoginScreen state={viewOf({type: 'step', message: 'Working'})} onCancel={onCancel} />)
    await tick()
    screen.stdin.write('\u0003')
    await tick()
    screen.stdin.write('\u001b')
    await tick()
    expect(onCancel).toHaveBeenCalledTimes(2)
    screen.unmount()
  })

  it('takes a pasted redirect URL while the login waits for one', async () => {
    const onPaste = vi.fn()
    const state = viewOf({type: 'authorize', url: 'https://kiro/login', callback: 'paste', expiresAt: NOW + 600_000})
    const screen = render(<LoginScreen state={state} onCancel={() => {}} onPaste={onPaste} now={() => NOW} />)
    await tick()
    expect(shown(screen)).toContain('Paste the link:')
    screen.stdin.write('kiro://kiro.kiroAgent/authenticate-success?code=c&state=s')
    await tick()
    expect(shown(screen)).toContain('state=s')
    screen.stdin.write('\r')
    await tick()
    expect(onPaste).toHaveBeenCalledWith('kiro://kiro.kiroAgent/authenticate-success?code=c&state=s')
    screen.stdin.write('second\n')
    await tick()
    expect(onPaste).toHaveBeenLastCalledWith('second')
    screen.unmount()
  })

  it('ends with the result', async () => {
    const screen = render(<LoginScreen state={{...initialLoginView, done: 'Signed in to Qwen'}} onCancel={() => {}} />)
    await tick()
    expect(shown(screen)).toBe('✔ Signed in to Qwen')
    screen.unmount()
  })
})
