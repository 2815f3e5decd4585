import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AppError} from '../core/errors.js'
import {newInstanceFields} from '../core/pools/operations.js'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'

export interface DemoUpstreams {
  poolsFile: string
  fakes: FakeUpstream[]
  close(): Promise<void>
}

/** Every fifth request to the flaky instance fails, so failover and error counters are visible at once. */
const FLAKY_EVERY = 5

/**
 * Local stand-ins for real providers, and a pool file pointing at them: a newcomer sees requests flow,
 * fail over and move counters without any key. The keys below only open the loopback fakes.
 */
export async function startDemoUpstreams(poolsFile?: string): Promise<DemoUpstreams> {
  const fakes = await Promise.all([
    startOpenAIFake({name: 'openai-a', paceMs: 15}),
    startOpenAIFake({
      name: 'openai-flaky',
      paceMs: 15,
      script: {handler: (_req, n) => ((n + 1) % FLAKY_EVERY === 0 ? {kind: 'status', status: 500, message: 'demo: simulated outage'} : undefined)},
    }),
    startAnthropicFake({name: 'claude-a', paceMs: 15}),
  ])
  const [openaiA, flaky, claude] = fakes as [FakeUpstream, FakeUpstream, FakeUpstream]
  const instance = (fake: FakeUpstream, keyField: string, urlField: string, uuid: string) => ({
    [keyField]: `demo-key-${fake.name}`,
    [urlField]: fake.baseUrl,
    customName: fake.name,
    ...newInstanceFields(uuid),
  })
  const doc = {
    'openai-custom': [
      instance(openaiA, 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'd3a0c0de-0000-4000-8000-00000000000a'),
      instance(flaky, 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'd3a0c0de-0000-4000-8000-00000000000b'),
    ],
    'claude-custom': [instance(claude, 'CLAUDE_API_KEY', 'CLAUDE_BASE_URL', 'd3a0c0de-0000-4000-8000-00000000000c')],
  }
  const file = poolsFile ?? join(await mkdtemp(join(tmpdir(), 'aiclient-demo-')), 'provider_pools.json')
  const existing = await readFile(file, 'utf8').catch(() => '')
  if (existing.trim() !== '') {
    await Promise.all(fakes.map((f) => f.close()))
    throw new AppError(`--demo writes its own instances, but ${file} already has content; it was not changed.`, {
      suggestions: ['Run `aiclient serve --demo` without --pools-file (a temporary file is used), or name a new file.'],
    })
  }
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`, {mode: 0o600})
  return {poolsFile: file, fakes, close: async () => void (await Promise.all(fakes.map((f) => f.close())))}
}
