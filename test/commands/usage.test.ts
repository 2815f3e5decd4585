import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, tempDir} from '../helpers/cli.js'

let dir: string
let cleanup: () => Promise<void>
let pools: string
let history: string

const cell = (requests: number, input: number, output: number) => ({requests, inputTokens: input, outputTokens: output})

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
  pools = join(dir, 'provider_pools.json')
  history = join(dir, 'provider_pools.usage.json')
  await writeFile(
    pools,
    JSON.stringify({'openai-custom': [{uuid: 'aaaa1111-uuid', customName: 'work', OPENAI_API_KEY: 'sk-x'}]}),
  )
  await writeFile(
    history,
    JSON.stringify({
      version: 1,
      days: {
        '2026-10-31': {'openai-custom/aaaa1111-uuid': {'gpt-4o': cell(2, 1000, 100)}},
        '2026-11-01': {
          'openai-custom/aaaa1111-uuid': {'gpt-4o': cell(1, 10, 5), 'odd,"model"\nname': cell(1, 1, 1)},
          'claude-custom/bbbb2222-gone': {opus: cell(3, 30, 3)},
        },
      },
    }),
  )
})
afterEach(async () => cleanup())

const usage = (args: string[]) => runCli(['usage', '--pools-file', pools, ...args], {cwd: dir})

describe('aiclient usage', () => {
  it('prints a table by instance with names from the pool file, removed instances by their uuid, and a total', async () => {
    const result = await usage(['--no-color'])
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines[0]).toMatch(
      /^INSTANCE\s+TYPE\s+REQUESTS\s+INPUT\s+OUTPUT\s+CACHE READ\s+CACHE WRITE\s+REASONING\s+ESTIMATED\s+TOTAL$/,
    )
    expect(lines[1]).toMatch(/^work\s+openai-custom\s+4\s+1,011\s+106\s+0\s+0\s+0\s+0\s+1,117$/)
    expect(lines[2]).toMatch(/^bbbb2222\s+claude-custom\s+3\s+30\s+3\s/)
    expect(lines[3]).toMatch(/^total\s+7\s+1,041\s+109\s.*1,150$/)
  })

  it('--since with a date and --by day cut at that day; --json is the payload alone', async () => {
    const result = await usage(['--since', '2026-11-01', '--by', 'day', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const payload = JSON.parse(result.stdout)
    expect(payload).toMatchObject({file: history, since: '2026-11-01', by: 'day', type: null})
    expect(payload.rows).toEqual([
      {
        day: '2026-11-01',
        requests: 5,
        inputTokens: 41,
        outputTokens: 9,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        estimatedTokens: 0,
        totalTokens: 50,
      },
    ])
    expect(payload.total.totalTokens).toBe(50)
  })

  it('--csv quotes model names that need it', async () => {
    const result = await usage(['--by', 'model', '--type', 'openai-custom', '--csv'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe(
      'model,requests,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,reasoningTokens,estimatedTokens,totalTokens\r\n' +
        'gpt-4o,3,1010,105,0,0,0,0,1115\r\n' +
        '"odd,""model""\nname",1,1,1,0,0,0,0,2\r\n',
    )
  })

  it('refuses a --since it cannot read with exit 2, and --csv with --json', async () => {
    const bad = await usage(['--since', 'last week'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      '--since must be a number of days (7d), of hours (24h) or a date (2026-11-01), not "last week".',
    )
    const both = await usage(['--csv', '--json'])
    expect(both.code).toBe(2)
  })

  it('fails on a history file it cannot parse, naming it, and leaves it as it is', async () => {
    await writeFile(history, '{"days": [')
    const result = await usage(['--json'])
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout).error.message).toMatch(
      new RegExp(`^${history.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:11: invalid JSON`),
    )
    expect(await readFile(history, 'utf8')).toBe('{"days": [')
  })
})
