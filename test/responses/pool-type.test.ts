// The `openaiResponses-custom` type through the built CLI: files AIClient-2-API wrote, `pool add`, `pool list` and
// `pool check` against the fake Responses upstream.
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {startResponsesFake, type FakeUpstream} from '../fakes/index.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {openaiInstance} from '../helpers/proxy.js'

const TYPE = 'openaiResponses-custom'
const PLANTED = 'sk-PLANTED-responses-0123456789'

let fakes: FakeUpstream[] = []
let dir: string
let cleanup: () => Promise<void>
let pools: string

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
  pools = join(dir, 'provider_pools.json')
})
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()))
  fakes = []
  await cleanup()
})

const cli = (args: string[]) => runCli([...args, '--pools-file', pools], {cwd: dir})

/** An entry as AIClient-2-API writes it for this type, with fields of its own that aiclient does not know. */
const aiclient2apiEntry = {
  OPENAI_API_KEY: PLANTED,
  OPENAI_BASE_URL: 'https://api.openai.com/v1',
  uuid: '7d3a9c1e-52b4-4e0f-9a61-0c7e2f1d8b90',
  customName: 'codex main',
  checkModelName: 'gpt-5.4-mini',
  checkHealth: true,
  isHealthy: true,
  isDisabled: false,
  lastUsed: '2026-11-30T09:12:44.120Z',
  usageCount: 1284,
  errorCount: 2,
  lastErrorTime: '2026-11-29T22:01:03.004Z',
  lastHealthCheckTime: '2026-11-30T09:00:00.000Z',
  lastHealthCheckModel: 'gpt-5.4-mini',
  lastErrorMessage: 'Rate limit reached',
  notSupportedModels: ['o1-pro'],
  concurrencyLimit: 4,
  queueLimit: 16,
  futureField: {nested: [1, 'two']},
}

describe('openaiResponses-custom in the pool commands', () => {
  it('loads, lists and keeps every field of a file AIClient-2-API wrote across a write', async () => {
    const doc = {[TYPE]: [aiclient2apiEntry], 'openai-custom': [], somethingElse: {kept: true}}
    await writeFile(pools, JSON.stringify(doc, null, 2))

    const listed = await cli(['pool', 'list', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout + listed.stderr).not.toContain('PLANTED')
    const [entry] = JSON.parse(listed.stdout)
    expect(entry).toMatchObject({
      type: TYPE,
      uuid: aiclient2apiEntry.uuid,
      customName: 'codex main',
      usageCount: 1284,
      state: 'healthy',
      OPENAI_API_KEY: expect.stringMatching(/^sk-…6789$/),
    })
    const table = await cli(['pool', 'list'])
    expect(table.stdout).toMatch(/openaiResponses-custom\s+codex main/)
    expect(table.stdout).not.toContain('PLANTED')

    // A write of the file (another instance added) keeps the existing entry and the unknown keys as they were.
    const added = await cli(['pool', 'add', TYPE, '--key', 'sk-second-0123456789abcdef', '--json'])
    expect(added.code, added.stderr).toBe(0)
    const after = JSON.parse(await readFile(pools, 'utf8'))
    expect(after[TYPE][0]).toEqual(aiclient2apiEntry)
    expect(after.somethingElse).toEqual({kept: true})
    expect(after[TYPE]).toHaveLength(2)
  })

  it('pool add takes the same flags as openai-custom, validates them, and masks the key', async () => {
    const added = await cli([
      'pool',
      'add',
      TYPE,
      '--key',
      PLANTED,
      '--base-url',
      'https://gateway.example/v1',
      '--name',
      'codex',
      '--check-model',
      'gpt-5.4-mini',
      '--json',
    ])
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).not.toContain('PLANTED')
    expect(JSON.parse(added.stdout)).toMatchObject({
      type: TYPE,
      OPENAI_BASE_URL: 'https://gateway.example/v1',
      customName: 'codex',
      checkModelName: 'gpt-5.4-mini',
    })
    const defaulted = await cli(['pool', 'add', TYPE, '--key', 'sk-other-0123456789abcdef'])
    expect(defaulted.code, defaulted.stderr).toBe(0)
    const stored = JSON.parse(await readFile(pools, 'utf8'))[TYPE]
    expect(stored.map((i: {OPENAI_BASE_URL: string}) => i.OPENAI_BASE_URL)).toEqual([
      'https://gateway.example/v1',
      'https://api.openai.com/v1',
    ])
    expect(stored[0].OPENAI_API_KEY).toBe(PLANTED)

    const missingKey = await cli(['pool', 'add', TYPE])
    expect(missingKey.code).toBe(2)
    expect(missingKey.stderr).toMatch(/--key/)
    const badUrl = await cli(['pool', 'add', TYPE, '--key', 'sk-x-0123456789abc', '--base-url', 'localhost:99'])
    expect(badUrl.code).toBe(2)
    expect(badUrl.stderr).toMatch(/not an http\(s\) URL/)
    const duplicate = await cli(['pool', 'add', TYPE, '--key', PLANTED])
    expect(duplicate.stderr).toMatch(/already in the openaiResponses-custom pool/)
    expect(duplicate.stderr + duplicate.stdout).not.toContain('PLANTED')

    const typed = JSON.parse((await cli(['pool', 'list', '--type', TYPE, '--json'])).stdout)
    expect(typed).toHaveLength(2)
  })

  it('pool check probes with a minimal Responses request, --cheap with the model list', async () => {
    const fake = await startResponsesFake({name: 'up', keys: [PLANTED]})
    const denied = await startResponsesFake({name: 'denied', keys: ['not-this-one']})
    fakes = [fake, denied]
    await writeFile(
      pools,
      JSON.stringify({[TYPE]: [openaiInstance(fake, 'up', PLANTED), openaiInstance(denied, 'denied')]}),
    )

    const checked = await cli(['pool', 'check', '--json', '--timeout', '2s'])
    expect(checked.code).toBe(1)
    expect(checked.stdout + checked.stderr).not.toContain('PLANTED')
    const byName = Object.fromEntries(JSON.parse(checked.stdout).map((e: {name: string}) => [e.name, e]))
    expect(byName.up).toMatchObject({type: TYPE, healthy: true, state: 'healthy', status: 200, model: 'gpt-4o-mini'})
    expect(byName.denied).toMatchObject({healthy: false, reason: 'auth', status: 401})
    expect(fake.calls('responses')).toHaveLength(1)
    // The fake refuses fewer than 16 output tokens, as the real API does: the probe must be a request it accepts.
    expect(fake.requests[0]!.body).toEqual({
      model: 'gpt-4o-mini',
      input: 'ping',
      max_output_tokens: 16,
      store: false,
      stream: false,
    })

    fake.reset()
    const cheap = await cli(['pool', 'check', '--cheap', '--json', '--type', TYPE, 'up'])
    expect(cheap.code, cheap.stderr).toBe(0)
    expect(JSON.parse(cheap.stdout)[0]).toMatchObject({healthy: true, model: null})
    expect(fake.requests.map((r) => r.route)).toEqual(['models'])
  }, 20_000)
})
