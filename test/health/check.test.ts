import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {claudeInstance, openaiInstance} from '../helpers/proxy.js'

let fakes: FakeUpstream[] = []
let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
})
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()))
  fakes = []
  await cleanup()
})

async function writePools(doc: unknown): Promise<string> {
  const file = join(dir, 'provider_pools.json')
  await writeFile(file, JSON.stringify(doc, null, 2))
  return file
}

describe('pool check', () => {
  it('classifies healthy, auth, rate limit, server, unknown model, hang and refused; exits 1; records results', async () => {
    const healthy = await startOpenAIFake({name: 'healthy'})
    const denied = await startOpenAIFake({name: 'denied', keys: ['not-this-one']})
    const limited = await startAnthropicFake({
      name: 'limited',
      script: {fallback: {kind: 'status', status: 429, retryAfter: 120}},
    })
    const broken = await startOpenAIFake({name: 'broken', script: {fallback: {kind: 'status', status: 500}}})
    const noModel = await startOpenAIFake({name: 'nomodel', models: ['gpt-4o-mini']})
    const hanging = await startOpenAIFake({name: 'hanging', script: {fallback: {kind: 'hang'}}})
    const gone = await startOpenAIFake({name: 'gone'})
    await gone.close()
    fakes = [healthy, denied, limited, broken, noModel, hanging]
    const file = await writePools({
      'openai-custom': [
        openaiInstance(healthy, 'healthy', 'sk-PLANTED-check-0123456789'),
        openaiInstance(denied, 'denied'),
        openaiInstance(broken, 'broken'),
        {...openaiInstance(noModel, 'nomodel'), checkModelName: 'gpt-9-unknown'},
        openaiInstance(hanging, 'hanging'),
        {...openaiInstance(gone, 'gone'), errorCount: 0},
        {...openaiInstance(healthy, 'off'), isDisabled: true},
      ],
      'claude-custom': [claudeInstance(limited, 'limited')],
    })
    const started = Date.now()
    const result = await runCli(
      ['pool', 'check', '--json', '--timeout', '1s', '--concurrency', '8', '--pools-file', file],
      {cwd: dir},
    )
    expect(Date.now() - started).toBeLessThan(6000)
    expect(result.code, result.stderr).toBe(1)
    expect(result.stdout + result.stderr).not.toContain('PLANTED')
    const entries = JSON.parse(result.stdout) as Array<Record<string, unknown>>
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]))
    expect(byName.healthy).toMatchObject({
      healthy: true,
      state: 'healthy',
      reason: null,
      status: 200,
      model: 'gpt-4o-mini',
      error: null,
    })
    expect(byName.denied).toMatchObject({healthy: false, state: 'unhealthy', reason: 'auth', status: 401})
    expect(byName.limited).toMatchObject({
      healthy: false,
      state: 'cooling',
      reason: 'rate_limited',
      status: 429,
      model: 'claude-haiku-4-5',
    })
    expect(byName.broken).toMatchObject({healthy: false, state: 'unhealthy', reason: 'server', status: 500})
    expect(byName.nomodel).toMatchObject({
      healthy: false,
      state: 'unhealthy',
      reason: 'model_not_found',
      status: 404,
      model: 'gpt-9-unknown',
    })
    expect(byName.hanging).toMatchObject({healthy: false, state: 'unhealthy', reason: 'timeout', status: null})
    expect(byName.gone).toMatchObject({healthy: false, state: 'unhealthy', reason: 'network', status: null})
    expect(byName.off).toMatchObject({state: 'skipped', healthy: false, latencyMs: null})
    for (const entry of entries)
      expect(Object.keys(entry).sort()).toEqual([
        'error',
        'healthy',
        'latencyMs',
        'model',
        'name',
        'quota',
        'reason',
        'state',
        'status',
        'type',
        'uuid',
      ])
    expect(healthy.calls('chat.completions').length).toBe(1)
    expect(healthy.requests[0]!.body).toMatchObject({max_tokens: 1})

    const pool = JSON.parse(await readFile(file, 'utf8'))
    const stored = (name: string) =>
      [...pool['openai-custom'], ...pool['claude-custom']].find((i: {customName: string}) => i.customName === name)
    expect(stored('healthy')).toMatchObject({isHealthy: true, errorCount: 0, lastHealthCheckTime: expect.any(String)})
    expect(stored('denied')).toMatchObject({
      isHealthy: false,
      lastErrorReason: 'auth',
      errorCount: 1,
      lastErrorTime: expect.any(String),
    })
    expect(stored('limited')).toMatchObject({isHealthy: true, lastErrorReason: 'rate_limited'})
    expect(Date.parse(stored('limited').cooldownUntil) - Date.now()).toBeGreaterThan(100_000)
    expect(stored('hanging')).toMatchObject({isHealthy: false, lastErrorReason: 'timeout'})
    expect(stored('off').lastHealthCheckTime).toBeUndefined()

    const list = JSON.parse(
      (await runCli(['pool', 'list', '--json', '--pools-file', file], {cwd: dir})).stdout,
    ) as Array<Record<string, unknown>>
    expect(list.find((i) => i.customName === 'limited')).toMatchObject({state: 'cooling'})
    expect(list.find((i) => i.customName === 'denied')).toMatchObject({state: 'unhealthy', lastErrorReason: 'auth'})
  }, 20_000)

  it('a successful check resets the error counter and exits 0; --cheap asks only for the model list', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    fakes = [fake]
    const file = await writePools({
      'openai-custom': [{...openaiInstance(fake, 'up'), isHealthy: false, errorCount: 9, lastErrorReason: 'server'}],
    })
    const result = await runCli(['pool', 'check', '--cheap', '--pools-file', file], {cwd: dir})
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/● openai-custom up-uuid- up healthy \d+ms/)
    expect(result.stdout).toMatch(/1 healthy, 0 unhealthy, 0 cooling, 0 skipped/)
    expect(fake.calls('models')).toHaveLength(1)
    expect(fake.calls('chat.completions')).toHaveLength(0)
    expect(JSON.parse(await readFile(file, 'utf8'))['openai-custom'][0]).toMatchObject({
      isHealthy: true,
      errorCount: 0,
      lastErrorReason: null,
    })
  })

  it('50 instances, concurrency 8, 1 s timeout, a third hanging: done within ⌈50/8⌉ s plus a margin', async () => {
    const good = await startOpenAIFake({name: 'good'})
    const hang = await startOpenAIFake({name: 'hang', script: {fallback: {kind: 'hang'}}})
    fakes = [good, hang]
    const instances = Array.from({length: 50}, (_, i) => openaiInstance(i % 3 === 0 ? hang : good, `i${i}`))
    const file = await writePools({'openai-custom': instances})
    const started = Date.now()
    const result = await runCli(
      ['pool', 'check', '--json', '--timeout', '1s', '--concurrency', '8', '--pools-file', file],
      {cwd: dir},
    )
    const elapsed = Date.now() - started
    expect(result.code).toBe(1)
    const entries = JSON.parse(result.stdout) as Array<{state: string; reason: string | null}>
    expect(entries.filter((e) => e.reason === 'timeout')).toHaveLength(17)
    expect(entries.filter((e) => e.state === 'healthy')).toHaveLength(33)
    expect(elapsed).toBeLessThan(Math.ceil(50 / 8) * 1000 + 2500)
  }, 20_000)

  it('checks only the named instances and rejects a bad timeout', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    fakes = [fake]
    const file = await writePools({
      'openai-custom': [openaiInstance(fake, 'a'), openaiInstance(fake, 'b'), openaiInstance(fake, 'c')],
    })
    const result = await runCli(['pool', 'check', 'a', 'c', '--json', '--pools-file', file], {cwd: dir})
    expect(JSON.parse(result.stdout).map((e: {name: string}) => e.name)).toEqual(['a', 'c'])
    const bad = await runCli(['pool', 'check', '--timeout', 'soon', '--pools-file', file], {cwd: dir})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--timeout "soon" is not a duration/)
  })
})
