import {access} from 'node:fs/promises'
import {expect, it} from 'vitest'
import type {RequestRecord} from '../../src/core/proxy/types.js'
import {historyFileOf} from '../../src/core/usage/history-file.js'
import type {TokenUsage} from '../../src/core/usage/tokens.js'
import {startOpenAIFake} from '../fakes/index.js'
import {runCli} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

const FIELDS = {
  input: 'inputTokens',
  output: 'outputTokens',
  cacheRead: 'cacheReadTokens',
  cacheWrite: 'cacheWriteTokens',
  reasoning: 'reasoningTokens',
} as const

/**
 * Records of served answers carry their usage once the answers' usage is read; until then, and for answers that
 * report none, the test gives each served record usage of its own before the accounting sees it.
 */
function stamping(records: RequestRecord[]) {
  let n = 0
  return (record: RequestRecord) => {
    if (record.status === 200 && record.usage === undefined) {
      n++
      record.usage = {
        input: 100 + n,
        output: n,
        cacheRead: n % 3,
        cacheWrite: 0,
        reasoning: n % 2,
        estimated: n % 5 === 0,
      }
    }
    records.push(record)
  }
}

function sums(records: RequestRecord[], instanceId: string): Record<string, number> {
  const sum: Record<string, number> = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    estimatedTokens: 0,
  }
  for (const {usage} of records.filter((r) => r.instanceId === instanceId) as Array<
    RequestRecord & {usage: TokenUsage}
  >) {
    for (const [kind, field] of Object.entries(FIELDS)) sum[field]! += usage[kind as keyof typeof FIELDS]
    if (usage.estimated) sum.estimatedTokens! += usage.input + usage.output
  }
  return sum
}

it('pool file totals, the history and `aiclient usage --json` equal the sum of the served answers’ usage, with a pool add meanwhile', async () => {
  const first = await startOpenAIFake({name: 'first'})
  const second = await startOpenAIFake({name: 'second'})
  h.fakes = [first, second]
  const records: RequestRecord[] = []
  h.proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(first, 'first'), openaiInstance(second, 'second')]},
    {flushDelayMs: 50, pollMs: 50, onRecord: stamping(records)},
  )
  const chat = () =>
    post(`${h.proxy!.url}/v1/chat/completions`, {model: 'gpt-4o', messages: [{role: 'user', content: 'hi'}]})
  const add = runCli(
    [
      'pool',
      'add',
      'openai-custom',
      '--key',
      'sk-third-0123456789abcdef',
      '--name',
      'third',
      '--pools-file',
      h.proxy.poolsFile,
    ],
    {cwd: h.proxy.dir},
  )
  for (let batch = 0; batch < 8; batch++) {
    const answers = await Promise.all(Array.from({length: 5}, chat))
    for (const answer of answers) expect(answer.status).toBe(200)
  }
  expect((await add).code).toBe(0)
  await h.proxy.stop()

  const pool = await h.proxy.readPool()
  expect(pool['openai-custom']!.map((e) => e.customName)).toEqual(['first', 'second', 'third'])
  const ids = ['openai-custom/first-uuid-0000', 'openai-custom/second-uuid-0000']
  for (const [index, id] of ids.entries()) {
    expect(records.filter((r) => r.instanceId === id).length).toBeGreaterThan(0)
    const entry = pool['openai-custom']![index]!
    const expected = sums(records, id)
    // A total that never grew is not written at all: the entry keeps the shape it had.
    expect(Object.fromEntries(Object.keys(expected).map((field) => [field, entry[field] ?? 0]))).toEqual(expected)
  }
  expect((pool['openai-custom']![0]!.usageCount! as number) + (pool['openai-custom']![1]!.usageCount as number)).toBe(
    40,
  )

  const usage = await runCli(['usage', '--json', '--pools-file', h.proxy.poolsFile], {cwd: h.proxy.dir})
  expect(usage.code, usage.stderr).toBe(0)
  const report = JSON.parse(usage.stdout)
  expect(report.file).toBe(historyFileOf(h.proxy.poolsFile))
  for (const [index, id] of ids.entries()) {
    const row = report.rows.find((r: {instance: string}) => r.instance === id)
    const entry = pool['openai-custom']![index]!
    expect(row).toMatchObject({name: index === 0 ? 'first' : 'second', type: 'openai-custom', ...sums(records, id)})
    const field = (name: string) => (entry[name] as number | undefined) ?? 0
    expect(row.totalTokens).toBe(
      field('inputTokens') + field('cacheReadTokens') + field('cacheWriteTokens') + field('outputTokens'),
    )
  }
  expect(report.total.requests).toBe(40)
})

it('counts nothing with TOKEN_ACCOUNTING false: no token fields, no history file', async () => {
  const fake = await startOpenAIFake({name: 'only'})
  h.fakes = [fake]
  const records: RequestRecord[] = []
  h.proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(fake, 'only')]},
    {config: {TOKEN_ACCOUNTING: false}, flushDelayMs: 50, pollMs: 50, onRecord: stamping(records)},
  )
  for (let i = 0; i < 3; i++)
    expect(
      (await post(`${h.proxy.url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]}))
        .status,
    ).toBe(200)
  await h.proxy.stop()
  expect(records.every((r) => r.usage !== undefined)).toBe(true)
  const entry = (await h.proxy.readPool())['openai-custom']![0]!
  expect(entry.usageCount).toBe(3)
  expect(Object.keys(entry).filter((key) => key.endsWith('Tokens'))).toEqual([])
  expect(h.proxy.state.list()[0]!.tokens.input).toBe(0)
  await expect(access(historyFileOf(h.proxy.poolsFile))).rejects.toThrow()
})
