import {mkdir, mkdtemp, rmdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import * as fs from '../fs/read-file.js'
import {seededRandom} from '../../../test/fakes/random.js'
import {addInstance} from '../pools/operations.js'
import {PoolState} from '../pools/pool-state.js'
import {PoolStore} from '../pools/store.js'
import {PoolSync} from '../pools/sync.js'
import type {RequestRecord} from '../proxy/types.js'
import {TokenAccounting} from './accounting.js'
import {historyFileOf, readHistory} from './history-file.js'
import type {TokenUsage} from './tokens.js'
import {addUsage, zeroTotals, type TokenTotals} from './totals.js'

const DAY = 86_400_000
const NOON = Date.parse('2026-12-04T12:00:00Z')

let dir: string
let file: string
let history: string
let stops: Array<() => Promise<void>>
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiclient-accounting-'))
  file = join(dir, 'provider_pools.json')
  history = historyFileOf(file)
  stops = []
})
afterEach(async () => {
  for (const stop of stops) await stop()
  await rm(dir, {recursive: true, force: true})
})

const entry = (name: string) => ({
  uuid: `${name}-uuid`,
  customName: name,
  OPENAI_API_KEY: `sk-${name}-0123456789`,
  OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
  usageCount: 0,
  errorCount: 0,
})
const readPool = async () => JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>[]>

/** One serving process over the pool file: its state, the pool's persister and the accounting, flushed by hand. */
async function serving(now: () => number) {
  const store = new PoolStore(file)
  const state = new PoolState(undefined, now)
  const sync = new PoolSync(store, state, {flushDelayMs: 60_000, pollMs: 60_000})
  await sync.start()
  const warnings: string[] = []
  const accounting = new TokenAccounting(state, {
    historyFile: history,
    poolFile: file,
    now,
    flushDelayMs: 60_000,
    onWarning: (message) => warnings.push(message),
  })
  stops.push(async () => {
    await accounting.stop()
    await sync.stop()
  })
  return {state, sync, accounting, warnings}
}

function record(instanceId: string, model: string, usage: TokenUsage | undefined, time: number): RequestRecord {
  return {
    time,
    route: '/v1/chat/completions',
    protocol: 'openai',
    type: 'openai-custom',
    instance: instanceId,
    instanceId,
    model,
    status: 200,
    ms: 40,
    attempts: 1,
    stream: false,
    ...(usage && {usage}),
  }
}

function randomUsage(random: () => number): TokenUsage {
  const n = (max: number) => Math.floor(random() * max)
  return {
    input: n(5000),
    output: n(900),
    cacheRead: n(100),
    cacheWrite: n(50),
    reasoning: n(300),
    estimated: random() < 0.2,
  }
}

const TOKEN_FIELD_OF = {
  input: 'inputTokens',
  output: 'outputTokens',
  cacheRead: 'cacheReadTokens',
  cacheWrite: 'cacheWriteTokens',
  reasoning: 'reasoningTokens',
  estimated: 'estimatedTokens',
} as const

const fieldsOf = (totals: TokenTotals) =>
  Object.fromEntries(Object.entries(TOKEN_FIELD_OF).map(([key, field]) => [field, totals[key as keyof TokenTotals]]))

describe('TokenAccounting', () => {
  it('makes the pool file totals and the history the sum of every counted answer, across outside edits and two processes', async () => {
    await writeFile(file, JSON.stringify({'openai-custom': [entry('a'), entry('b')]}, null, 2))
    const clock = {now: NOON}
    const first = await serving(() => clock.now)
    const second = await serving(() => clock.now)
    const random = seededRandom(7)
    const expected = new Map<string, TokenTotals>()
    let requests = 0
    const ids = ['openai-custom/a-uuid', 'openai-custom/b-uuid']
    const work: Promise<unknown>[] = []
    for (let i = 0; i < 400; i++) {
      const id = ids[i % 2]!
      const usage = randomUsage(random)
      const at = NOON - Math.floor(random() * 3) * DAY
      const process = i % 3 === 0 ? second : first
      process.accounting.record(record(id, ['m1', 'm2', 'm3'][i % 3]!, usage, at))
      // Requests without usage (refused, or from an upstream that reported none) count nothing.
      process.accounting.record(record(id, 'm1', undefined, at))
      addUsage((expected.get(id) ?? expected.set(id, zeroTotals()).get(id)!) as TokenTotals, usage)
      requests++
      if (i % 50 === 0) {
        // `pool add` from another process while serving, and both processes writing as they go.
        work.push(
          addInstance(new PoolStore(file), {type: 'openai-custom', key: `sk-added-${i}-0123456789`, name: `added${i}`}),
        )
        work.push(first.sync.flush(), first.accounting.flush(), second.sync.flush(), second.accounting.flush())
      }
    }
    await Promise.all(work)
    await first.sync.reload()
    await second.sync.reload()
    for (const stop of stops.splice(0)) await stop()

    const pool = (await readPool())['openai-custom']!
    expect(pool.slice(0, 2).map((e) => e.customName)).toEqual(['a', 'b'])
    expect(
      pool
        .slice(2)
        .map((e) => e.customName)
        .sort(),
    ).toEqual(Array.from({length: 8}, (_, n) => `added${n * 50}`).sort())
    for (const [index, id] of ids.entries()) expect(pool[index]).toMatchObject(fieldsOf(expected.get(id)!))

    const sums = new Map<string, TokenTotals>()
    let counted = 0
    for (const {instanceId, cell} of (await readHistory(history)).cells()) {
      const sum = sums.get(instanceId) ?? sums.set(instanceId, zeroTotals()).get(instanceId)!
      for (const key of Object.keys(TOKEN_FIELD_OF) as (keyof TokenTotals)[]) sum[key] += cell[key]
      counted += cell.requests
    }
    expect(Object.fromEntries(sums)).toEqual(Object.fromEntries(expected))
    expect(counted).toBe(requests)
    expect((await stat(history)).mode & 0o777).toBe(0o600)
  })

  it('reads the history again when another process wrote it since, and only then', async () => {
    await writeFile(file, JSON.stringify({'openai-custom': [entry('a')]}))
    const first = await serving(() => NOON)
    const second = await serving(() => NOON)
    const usage = {input: 1, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: false}
    for (let round = 0; round < 3; round++)
      for (const {accounting} of [first, second]) {
        accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
        await accounting.flush()
      }
    const read = vi.spyOn(fs, 'readRegularFile')
    first.accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
    await first.accounting.flush()
    first.accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
    await first.accounting.flush()
    // The second write found the file as the first left it: nothing to read.
    expect(read.mock.calls.filter(([path]) => path === history)).toHaveLength(1)
    const cells = [...(await readHistory(history)).cells()]
    expect(cells.map(({cell}) => [cell.requests, cell.input])).toEqual([[8, 8]])
  })

  it('keys the history by the day each answer ended (UTC), model as the upstream saw it, and drops days past 400', async () => {
    await writeFile(file, JSON.stringify({'openai-custom': [entry('a')]}))
    await writeFile(
      history,
      JSON.stringify({
        version: 1,
        days: {'2025-10-30': {'openai-custom/a-uuid': {old: {requests: 1, inputTokens: 5}}}},
      }),
    )
    const {accounting} = await serving(() => NOON)
    const usage = {input: 3, output: 2, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: false}
    const late = record('openai-custom/a-uuid', 'alias', usage, Date.parse('2026-12-03T23:59:59.990Z'))
    accounting.record({...late, upstreamModel: 'real-model'})
    accounting.record(record('openai-custom/a-uuid', '__proto__', usage, NOON))
    await accounting.flush()
    const days = JSON.parse(await readFile(history, 'utf8')).days
    // 2026-12-04 minus 399 days is 2025-11-01: the 400th day back is the last one kept.
    expect(Object.keys(days)).toEqual(['2026-12-04'])
    expect(Object.keys(days['2026-12-04']['openai-custom/a-uuid'])).toEqual(['real-model', '__proto__'])
    expect(days['2026-12-04']['openai-custom/a-uuid']['__proto__']).toMatchObject({requests: 1, inputTokens: 3})
  })

  it('never overwrites a history it cannot parse: says which file, keeps the counts, and writes them once it is fixed', async () => {
    await writeFile(file, JSON.stringify({'openai-custom': [entry('a')]}))
    await writeFile(history, '{"version": 1, "days": {')
    const {accounting, warnings} = await serving(() => NOON)
    const usage = {input: 10, output: 1, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: false}
    accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
    await accounting.flush()
    expect(await readFile(history, 'utf8')).toBe('{"version": 1, "days": {')
    expect(warnings).toEqual([expect.stringContaining(`Could not save token usage: ${history}:1:25: invalid JSON`)])
    accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
    await accounting.flush()
    expect(warnings).toHaveLength(1)
    await writeFile(history, JSON.stringify({version: 1, days: {}}))
    await accounting.flush()
    expect(warnings[1]).toBe(`${history} is usable again; usage is being saved.`)
    expect(JSON.parse(await readFile(history, 'utf8')).days['2026-12-04']['openai-custom/a-uuid'].m).toMatchObject({
      requests: 2,
      inputTokens: 20,
    })
  })

  it('refuses a history whose counts are not counts, naming the path inside it', async () => {
    await writeFile(history, JSON.stringify({days: {'2026-12-04': {'openai-custom/a': {m: {inputTokens: -1}}}}}))
    await expect(readHistory(history)).rejects.toThrow(
      `${history}: days.2026-12-04.openai-custom/a.m.inputTokens: must be a whole number ≥ 0. The file was not changed.`,
    )
  })

  it('keeps the counts of a write that failed for the next one', async () => {
    await writeFile(file, JSON.stringify({'openai-custom': [entry('a')]}))
    const {accounting, warnings} = await serving(() => NOON)
    const usage = {input: 4, output: 4, cacheRead: 0, cacheWrite: 0, reasoning: 0, estimated: false}
    accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
    // Something that is not a file stands where the history goes, until someone moves it away.
    await mkdir(history)
    await accounting.flush()
    await rmdir(history)
    expect(warnings).toEqual([expect.stringMatching(/^Could not save token usage: /)])
    accounting.record(record('openai-custom/a-uuid', 'm', usage, NOON))
    await accounting.flush()
    expect(JSON.parse(await readFile(history, 'utf8')).days['2026-12-04']['openai-custom/a-uuid'].m).toMatchObject({
      requests: 2,
      inputTokens: 8,
    })
  })
})
