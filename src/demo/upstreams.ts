import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AppError} from '../core/errors.js'
import {newInstanceFields} from '../core/pools/operations.js'
import {startDemoUpstream, type DemoUpstream} from './upstream.js'

export interface DemoUpstreams {
  poolsFile: string
  upstreams: DemoUpstream[]
  close(): Promise<void>
}

/** Every fifth request to the flaky instance fails, so failover and error counters are visible at once. */
const FLAKY_EVERY = 5

/**
 * Local stand-ins for real providers, and a pool file pointing at them: a newcomer sees requests flow,
 * fail over and move counters without any key. The keys are placeholders: the demo upstreams accept any.
 */
export async function startDemoUpstreams(poolsFile?: string): Promise<DemoUpstreams> {
  const upstreams = await Promise.all([
    startDemoUpstream({name: 'openai-a', protocol: 'openai', paceMs: 15}),
    startDemoUpstream({name: 'openai-flaky', protocol: 'openai', paceMs: 15, failEvery: FLAKY_EVERY}),
    startDemoUpstream({name: 'claude-a', protocol: 'anthropic', paceMs: 15}),
  ])
  const [openaiA, flaky, claude] = upstreams as [DemoUpstream, DemoUpstream, DemoUpstream]
  const instance = (upstream: DemoUpstream, keyField: string, urlField: string, uuid: string) => ({
    [keyField]: `demo-key-${upstream.name}`,
    [urlField]: upstream.baseUrl,
    customName: upstream.name,
    ...newInstanceFields(uuid),
  })
  const doc = {
    'openai-custom': [
      instance(openaiA, 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'd3a0c0de-0000-4000-8000-00000000000a'),
      instance(flaky, 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'd3a0c0de-0000-4000-8000-00000000000b'),
    ],
    'claude-custom': [instance(claude, 'CLAUDE_API_KEY', 'CLAUDE_BASE_URL', 'd3a0c0de-0000-4000-8000-00000000000c')],
  }
  const closeAll = async () => void (await Promise.all(upstreams.map((u) => u.close())))
  const file = poolsFile ?? join(await mkdtemp(join(tmpdir(), 'aiclient-demo-')), 'provider_pools.json')
  const existing = await readFile(file, 'utf8').catch(() => '')
  if (existing.trim() !== '') {
    await closeAll()
    throw new AppError(`--demo writes its own instances, but ${file} already has content; it was not changed.`, {
      suggestions: ['Run `aiclient serve --demo` without --pools-file (a temporary file is used), or name a new file.'],
    })
  }
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`, {mode: 0o600})
  return {poolsFile: file, upstreams, close: closeAll}
}
