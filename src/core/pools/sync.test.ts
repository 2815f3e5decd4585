import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {PoolState} from './pool-state.js'
import {PoolStore} from './store.js'
import {PoolSync} from './sync.js'
import type {TokenUsage} from '../usage/tokens.js'

let dir: string
let file: string
let sync: PoolSync | undefined
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiclient-sync-'))
  file = join(dir, 'provider_pools.json')
})
afterEach(async () => {
  await sync?.stop()
  sync = undefined
  vi.useRealTimers()
  await rm(dir, {recursive: true, force: true})
})

const entry = (extra: Record<string, unknown> = {}) => ({
  uuid: 'a-uuid',
  customName: 'a',
  OPENAI_API_KEY: 'sk-x',
  OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
  isHealthy: true,
  usageCount: 5,
  errorCount: 1,
  ...extra,
})

const writePool = (extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
  writeFile(file, JSON.stringify({'openai-custom': [entry(extra)], ...top}, null, 2))
const readPool = async () =>
  JSON.parse(await readFile(file, 'utf8')) as {'openai-custom': Record<string, unknown>[]} & Record<string, unknown>

/** A pool kept in step with the file by hand: no polling, and writes only when the test flushes. */
async function started(store = new PoolStore(file), warnings: string[] = []) {
  const state = new PoolState()
  sync = new PoolSync(store, state, {
    flushDelayMs: 60_000,
    pollMs: 60_000,
    onWarning: (message) => warnings.push(message),
  })
  await sync.start()
  return {state, live: state.list()[0]!, sync, warnings}
}

describe('PoolSync writing statistics', () => {
  it('adds its counts to the counters the file holds now, keeping edits made to it meanwhile', async () => {
    await writePool()
    const {state, live, sync} = await started()
    state.succeeded(live, 10)
    state.succeeded(live, 10)
    state.failed(live, 'server error 500')
    // Someone else counted too, and added a note, while we served.
    await writePool({usageCount: 9, note: 'mine'}, {myNotes: [1]})
    await sync.flush()
    const after = await readPool()
    expect(after['openai-custom'][0]).toMatchObject({usageCount: 11, errorCount: 2, note: 'mine', isHealthy: true})
    expect(after['openai-custom'][0]!.lastUsed).toBe(new Date(live.lastUsedAt!).toISOString())
    expect(after.myNotes).toEqual([1])
    await sync.flush()
    expect((await readPool())['openai-custom'][0]!.usageCount).toBe(11)
  })

  it('respects an outside reset: what was written stays reset, only later counts are added', async () => {
    await writePool()
    const {state, live, sync} = await started()
    for (let n = 0; n < 3; n++) state.failed(live, 'server error 500')
    state.cool(live, 60_000, 'rate limited')
    await sync.flush()
    expect((await readPool())['openai-custom'][0]).toMatchObject({
      isHealthy: false,
      errorCount: 4,
      cooldownUntil: expect.any(String),
    })
    // `pool reset`: counters to zero, healthy again, cooldown gone.
    await writePool({usageCount: 0, errorCount: 0, isHealthy: true, cooldownUntil: null})
    await sync.reload()
    expect(live).toMatchObject({healthy: true, cooldownUntil: 0, errorCount: 0, usageCount: 0})
    state.succeeded(live, 5)
    await sync.flush()
    expect((await readPool())['openai-custom'][0]).toMatchObject({
      isHealthy: true,
      errorCount: 0,
      usageCount: 1,
      cooldownUntil: null,
    })
  })

  it('respects a cooldown cleared in the file while the instance is otherwise healthy', async () => {
    await writePool()
    const {state, live, sync} = await started()
    state.cool(live, 60_000, 'rate limited')
    await sync.flush()
    await writePool({cooldownUntil: null})
    await sync.reload()
    expect(state.stateOf(live)).toBe('healthy')
    expect(live.cooldownUntil).toBe(0)
  })

  it('gives the changes back to the ledger when a write fails, and writes them with the next one', async () => {
    await writePool()
    const store = new PoolStore(file)
    const {state, live, sync, warnings} = await started(store)
    state.succeeded(live, 10)
    state.markUnhealthy(live, 'auth')
    const update = vi.spyOn(store, 'update').mockRejectedValueOnce(new Error('disk full'))
    await sync.flush()
    expect(update).toHaveBeenCalledTimes(1)
    expect(warnings).toEqual(['Could not save statistics: disk full Retrying.'])
    expect((await readPool())['openai-custom'][0]).toMatchObject({usageCount: 5, isHealthy: true})
    await sync.flush()
    expect(update).toHaveBeenCalledTimes(2)
    expect((await readPool())['openai-custom'][0]).toMatchObject({
      usageCount: 6,
      isHealthy: false,
      lastErrorReason: 'auth',
    })
  })

  it('drops the statistics of an instance removed from the file meanwhile', async () => {
    await writePool()
    const {state, live, sync} = await started()
    state.succeeded(live, 10)
    await writeFile(file, JSON.stringify({'openai-custom': []}))
    await sync.flush()
    expect(await readPool()).toEqual({'openai-custom': []})
  })

  it('writes one change a flush delay after it, and several changes in that time together', async () => {
    await writePool()
    const store = new PoolStore(file)
    const state = new PoolState()
    sync = new PoolSync(store, state, {flushDelayMs: 1000, pollMs: 60_000})
    await sync.start()
    const update = vi.spyOn(store, 'update')
    vi.useFakeTimers()
    const live = state.list()[0]!
    state.succeeded(live, 1)
    await vi.advanceTimersByTimeAsync(500)
    state.succeeded(live, 1)
    await vi.advanceTimersByTimeAsync(499)
    expect(update).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(update).toHaveBeenCalledTimes(1)
    vi.useRealTimers()
    await vi.waitFor(async () => expect((await readPool())['openai-custom'][0]!.usageCount).toBe(7))
  })

  describe('token totals', () => {
    const usage = (input: number, output: number, more: Partial<TokenUsage> = {}): TokenUsage => ({
      input,
      output,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      estimated: false,
      ...more,
    })

    it('adds them to the fields beside usageCount, merged with the file; an entry never counted keeps its shape', async () => {
      await writeFile(
        file,
        JSON.stringify({'openai-custom': [entry({inputTokens: 100}), entry({uuid: 'b-uuid', customName: 'b'})]}),
      )
      const {state, live, sync} = await started()
      state.countTokens(live.id, usage(10, 5, {cacheRead: 4, reasoning: 2}))
      state.countTokens(live.id, usage(7, 3, {estimated: true, cacheWrite: 1}))
      state.countTokens('openai-custom/gone', usage(1, 1))
      expect(live.tokens).toEqual({input: 117, output: 8, cacheRead: 4, cacheWrite: 1, reasoning: 2, estimated: 10})
      // Another process counted too, and someone added a note, while we served.
      const outside = await readPool()
      outside['openai-custom'][0]!.inputTokens = 150
      outside['openai-custom'][0]!.note = 'mine'
      await writeFile(file, JSON.stringify(outside))
      await sync.flush()
      const [a, b] = (await readPool())['openai-custom']
      expect(a).toMatchObject({
        inputTokens: 167,
        outputTokens: 8,
        cacheReadTokens: 4,
        cacheWriteTokens: 1,
        reasoningTokens: 2,
        estimatedTokens: 10,
        note: 'mine',
      })
      expect(Object.keys(b!).filter((key) => key.endsWith('Tokens'))).toEqual([])
      await sync.flush()
      expect((await readPool())['openai-custom'][0]!.inputTokens).toBe(167)
    })

    it('respects totals zeroed in the file and counts on from there; a failed write keeps them for the next', async () => {
      await writePool({inputTokens: 50, outputTokens: 20})
      const store = new PoolStore(file)
      const {state, live, sync} = await started(store)
      state.countTokens(live.id, usage(5, 5))
      const update = vi.spyOn(store, 'update').mockRejectedValueOnce(new Error('disk full'))
      await sync.flush()
      expect((await readPool())['openai-custom'][0]).toMatchObject({inputTokens: 50, outputTokens: 20})
      await writePool({inputTokens: 0, outputTokens: 0})
      await sync.reload()
      // What was never written is still ours to add: the file's 0 plus the unwritten 5.
      expect(live.tokens).toMatchObject({input: 5, output: 5})
      state.countTokens(live.id, usage(1, 2))
      await sync.flush()
      expect(update).toHaveBeenCalledTimes(2)
      expect((await readPool())['openai-custom'][0]).toMatchObject({inputTokens: 6, outputTokens: 7})
    })

    it('leaves them to the file when the tokens are counted: the file rejects a total that is not a count', async () => {
      await writePool({outputTokens: -1})
      await expect(new PoolStore(file).read()).rejects.toThrow(
        /openai-custom\[0\]\.outputTokens: must be a whole number/,
      )
    })
  })
})
