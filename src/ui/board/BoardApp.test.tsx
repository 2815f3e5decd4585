import {EventEmitter} from 'node:events'
import {render} from 'ink-testing-library'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {poll} from '../../../test/helpers/poll.js'
import {PoolState} from '../../core/pools/pool-state.js'
import {toInstance} from '../../core/pools/schema.js'
import type {RequestRecord} from '../../core/proxy/types.js'
import {BoardApp, type BoardActions} from './BoardApp.js'

const plain = (frame: string | undefined) => (frame ?? '').replace(/\u001B\[[0-9;]*m/g, '')
const DOWN = '\u001B[B'

function setup() {
  const state = new PoolState()
  state.sync([
    toInstance('openai-custom', {uuid: 'aaaaaaaa-1', customName: 'first', usageCount: 3}, '/'),
    toInstance('openai-custom', {uuid: 'bbbbbbbb-2', customName: 'second'}, '/'),
    toInstance('claude-custom', {uuid: 'cccccccc-3', customName: 'third'}, '/'),
  ])
  const feed = new EventEmitter()
  const actions: BoardActions = {
    toggleDisabled: vi.fn(async (id: string) => `toggled ${id}`),
    reset: vi.fn(async (id: string) => `reset ${id}`),
    check: vi.fn(async (id: string) => `checked ${id}`),
    cycleStrategy: vi.fn(async (id: string) => `cycled ${id}`),
    quit: vi.fn(),
  }
  const app = render(
    <BoardApp
      sources={{state, feed, url: 'http://127.0.0.1:1', startedAt: Date.now()}}
      actions={actions}
      intervalMs={50}
    />,
  )
  lastSeen = () => plain(app.lastFrame())
  return {state, feed, actions, app}
}

let lastSeen: (() => string | undefined) | undefined

async function until(check: () => boolean, what: string): Promise<void> {
  await poll(check, {
    timeoutMs: 2000,
    intervalMs: 10,
    failure: () => `timed out waiting for ${what}; last frame:\n${lastSeen?.()}`,
  })
}

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('BoardApp keys', () => {
  it('↑/↓ select, d/r/c act on the selection, f filters, ? helps, q quits', async () => {
    const {actions, app} = setup()
    cleanup = app.unmount
    await until(() => plain(app.lastFrame()).includes('› first'), 'first selected')
    app.stdin.write(DOWN)
    await until(() => plain(app.lastFrame()).includes('› second'), 'second selected')
    app.stdin.write('d')
    await until(() => plain(app.lastFrame()).includes('toggled openai-custom/bbbbbbbb-2'), 'toggle message')
    expect(actions.toggleDisabled).toHaveBeenCalledWith('openai-custom/bbbbbbbb-2')
    app.stdin.write('r')
    await until(() => vi.mocked(actions.reset).mock.calls.length === 1, 'reset')
    app.stdin.write('c')
    await until(() => vi.mocked(actions.check).mock.calls.length === 1, 'check')
    app.stdin.write('s')
    await until(() => plain(app.lastFrame()).includes('cycled openai-custom/bbbbbbbb-2'), 'strategy message')
    expect(actions.cycleStrategy).toHaveBeenCalledWith('openai-custom/bbbbbbbb-2')
    app.stdin.write('f')
    await until(() => plain(app.lastFrame()).includes('f filter: openai-custom'), 'filter')
    app.stdin.write('f')
    await until(() => plain(app.lastFrame()).includes('f filter: claude-custom'), 'second filter')
    expect(plain(app.lastFrame())).not.toContain('second')
    app.stdin.write('?')
    await until(() => plain(app.lastFrame()).includes('show or hide this help'), 'help')
    app.stdin.write('q')
    await until(() => vi.mocked(actions.quit).mock.calls.length === 1, 'quit')
  })

  it('redraws at most about ten times a second however many requests arrive', async () => {
    const {feed, app} = setup()
    cleanup = app.unmount
    await until(() => app.frames.length > 0, 'first frame')
    const before = app.frames.length
    const started = Date.now()
    for (let i = 0; i < 2000; i++) {
      feed.emit('record', {
        time: Date.now(),
        route: '/v1/chat/completions',
        protocol: 'openai',
        type: 'openai-custom',
        instance: 'first',
        model: 'm',
        status: 200,
        ms: 1,
        attempts: 1,
        stream: false,
      } satisfies RequestRecord)
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 30))
    }
    await new Promise((r) => setTimeout(r, 150))
    const elapsed = Date.now() - started
    expect(plain(app.lastFrame())).toMatch(/total 2000/)
    // intervalMs is 50 here: at most one frame per interval plus the one being written.
    expect(app.frames.length - before).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2)
  })

  it('shows a health change from the pool', async () => {
    const {state, app} = setup()
    cleanup = app.unmount
    state.markUnhealthy(state.list('openai-custom')[0]!, 'auth')
    await until(() => plain(app.lastFrame()).includes('unhealthy: auth'), 'health change')
  })

  it('shows each instance’s tokens and its tokens per second over the last five seconds of the board’s clock', async () => {
    const state = new PoolState()
    state.sync([toInstance('openai-custom', {uuid: 'aaaaaaaa-1', customName: 'first', usageCount: 3}, '/')])
    const feed = new EventEmitter()
    const clock = {now: Date.parse('2026-12-04T12:00:00Z')}
    const app = render(
      <BoardApp
        sources={{state, feed, url: 'http://127.0.0.1:1', startedAt: clock.now, now: () => clock.now}}
        actions={{} as BoardActions}
        intervalMs={20}
      />,
    )
    cleanup = app.unmount
    const frame = () => plain(app.lastFrame())
    lastSeen = frame
    const first = state.list('openai-custom')[0]!
    const usage = {input: 9000, output: 1000, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: false}
    state.countTokens(first.id, usage)
    const answer = (ms: number): RequestRecord => ({
      time: clock.now - ms,
      route: '/v1/chat/completions',
      protocol: 'openai',
      type: 'openai-custom',
      instance: 'first',
      instanceId: first.id,
      model: 'm',
      status: 200,
      ms,
      attempts: 1,
      stream: true,
      usage,
    })
    // A 30-second stream that ended just now counts now, not when it began.
    feed.emit('record', answer(30_000))
    await until(() => /ERR%\s+TOKENS\s+TOK\/S\s+P50/.test(frame()), 'token columns')
    await until(() => /first\s+● healthy\s+0\s+3\s+0\s+0%\s+10k\s+2k\s/.test(frame()), '10k tokens at 2k/s')
    expect(frame()).toMatch(/req\/s {2}2k tok\/s {2}total 1/)
    clock.now += 5_000
    await until(() => /first\s+● healthy\s+0\s+3\s+0\s+0%\s+10k\s+0\s/.test(frame()), 'the rate after the window')
    expect(frame()).toMatch(/req\/s {2}0 tok\/s/)
  })
})
