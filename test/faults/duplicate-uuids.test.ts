import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {setDisabled} from '../../src/core/pools/operations.js'
import {boardActions} from '../../src/ui/board/actions.js'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, waitFor, type TestProxy} from '../helpers/proxy.js'

/** A hand-copied entry: the second openai-custom instance repeats the first one's uuid, with its own name and key. */
const SHARED = '5d1c0f0e-0000-4000-8000-00000000abcd'
const one = {
  OPENAI_API_KEY: 'sk-one-0123456789abcdef',
  OPENAI_BASE_URL: 'https://one.example/v1',
  customName: 'one',
  uuid: SHARED,
  isHealthy: true,
  usageCount: 5,
  errorCount: 0,
}
const two = {
  OPENAI_API_KEY: 'sk-two-0123456789abcdef',
  OPENAI_BASE_URL: 'https://two.example/v1',
  customName: 'two',
  uuid: SHARED,
  isHealthy: true,
  usageCount: 7,
  errorCount: 0,
}
const other = {
  CLAUDE_API_KEY: 'sk-ant-other-0123456789',
  customName: 'other',
  uuid: 'c1a0de00-0000-4000-8000-000000000001',
  isHealthy: true,
}

describe('duplicate uuids: commands act on exactly the instance they name', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let pools: string
  const cli = (...args: string[]) => runCli(args, {cwd: dir})
  const readPool = async () => JSON.parse(await readFile(pools, 'utf8'))

  beforeEach(async () => {
    ;({dir, cleanup} = await tempDir())
    pools = join(dir, 'provider_pools.json')
    await writeFile(pools, JSON.stringify({'openai-custom': [one, two], 'claude-custom': [other]}, null, 2))
  })
  afterEach(async () => cleanup())

  it('disable NAME2 disables the second entry, and the duplicate is reported by JSON path', async () => {
    const result = await cli('pool', 'disable', 'two')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/Disabled openai-custom two/)
    expect(result.stderr).toMatch(/openai-custom\[1\]\.uuid duplicates openai-custom\[0\]\.uuid/)
    const doc = await readPool()
    expect(doc['openai-custom'][1]).toEqual({...two, isDisabled: true})
    expect(doc['openai-custom'][0]).toEqual(one)
  })

  it('remove NAME1 removes the first entry and keeps the copy', async () => {
    const result = await cli('pool', 'remove', 'one', '--force', '--json')
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout).removed).toEqual({type: 'openai-custom', uuid: SHARED, name: 'one'})
    expect((await readPool())['openai-custom']).toEqual([two])
  })

  it('the shared uuid is refused as ambiguous, and a JSON path names one entry', async () => {
    const before = await readFile(pools)
    const ambiguous = await cli('pool', 'disable', SHARED)
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toMatch(
      /matches 2 instances[\s\S]*at openai-custom\[0\][\s\S]*at openai-custom\[1\][\s\S]*pool doctor --fix/,
    )
    expect((await readFile(pools)).equals(before)).toBe(true)
    const byPath = await cli('pool', 'reset', 'openai-custom[1]', '--json')
    expect(byPath.code, byPath.stderr).toBe(0)
    expect(JSON.parse(byPath.stdout).reset).toEqual([{type: 'openai-custom', uuid: SHARED, name: 'two'}])
  })

  it('pool doctor reports the copy (exit 1, --json), and --fix gives it a new uuid, changing nothing else', async () => {
    const report = await cli('pool', 'doctor')
    expect(report.code).toBe(1)
    expect(report.stdout).toMatch(
      /openai-custom\[1\]\.uuid: duplicates openai-custom\[0\]\.uuid \(--fix repairs this\)/,
    )
    const json = await cli('pool', 'doctor', '--json')
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout).problems).toEqual([
      {
        kind: 'duplicate_uuid',
        path: 'openai-custom[1].uuid',
        problem: 'duplicates openai-custom[0].uuid',
        fixable: true,
      },
    ])

    const fixed = await cli('pool', 'doctor', '--fix', '--json')
    expect(fixed.code, fixed.stderr).toBe(0)
    const payload = JSON.parse(fixed.stdout)
    expect(payload.problems).toEqual([])
    expect(payload.fixed).toHaveLength(1)
    expect(payload.fixed[0]).toMatchObject({path: 'openai-custom[1].uuid', kind: 'duplicate_uuid', was: SHARED})
    const doc = await readPool()
    expect(doc['openai-custom'][0]).toEqual(one)
    expect(doc['openai-custom'][1]).toEqual({...two, uuid: payload.fixed[0].uuid})
    expect(Object.keys(doc['openai-custom'][1])).toEqual(Object.keys(two))
    expect(doc['openai-custom'][1].uuid).not.toBe(SHARED)
    expect(doc['claude-custom']).toEqual([other])

    const again = await cli('pool', 'doctor')
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/no problems found/)
    // Now the uuid names one instance again.
    expect((await cli('pool', 'disable', SHARED)).code).toBe(0)
    expect((await readPool())['openai-custom'][0].isDisabled).toBe(true)
  })

  it('pool doctor --fix also gives a uuid to an entry without one', async () => {
    const {uuid: _dropped, ...noUuid} = other
    await writeFile(pools, JSON.stringify({'claude-custom': [noUuid]}, null, 2))
    const listed = await cli('pool', 'list')
    expect(listed.code).toBe(1)
    expect(listed.stderr).toMatch(/claude-custom\[0\]\.uuid: must be a non-empty string/)
    const fixed = await cli('pool', 'doctor', '--fix')
    expect(fixed.code, fixed.stdout).toBe(0)
    expect(fixed.stdout).toMatch(/Fixed claude-custom\[0\]\.uuid: it had no uuid/)
    const entry = (await readPool())['claude-custom'][0]
    expect(entry).toEqual({...noUuid, uuid: expect.stringMatching(/^[0-9a-f-]{36}$/)})
    expect((await cli('pool', 'list')).code).toBe(0)
  })
})

describe('duplicate uuids while serving', () => {
  let fakeOne: FakeUpstream
  let fakeTwo: FakeUpstream
  let proxy: TestProxy | undefined

  afterEach(async () => {
    await proxy?.cleanup()
    await Promise.all([fakeOne?.close(), fakeTwo?.close()])
    proxy = undefined
  })

  it('serves both entries as separate instances and puts each one’s statistics on its own entry', async () => {
    fakeOne = await startOpenAIFake({name: 'one'})
    fakeTwo = await startOpenAIFake({name: 'two'})
    const first = {...openaiInstance(fakeOne, 'one'), uuid: SHARED}
    const copy = {...openaiInstance(fakeTwo, 'two'), uuid: SHARED}
    proxy = await startTestProxy({'openai-custom': [first, copy]})
    expect(proxy.warnings.join('\n')).toMatch(/openai-custom\[1\]\.uuid duplicates openai-custom\[0\]\.uuid/)
    expect(proxy.state.list('openai-custom').map((l) => l.config.name)).toEqual(['one', 'two'])

    const chat = () =>
      post(`${proxy!.url}/openai-custom/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})
    for (let i = 0; i < 4; i++) expect((await chat()).status).toBe(200)
    expect(fakeOne.count).toBe(2)
    expect(fakeTwo.count).toBe(2)
    await waitFor(
      async () => (await proxy!.readPool())['openai-custom']!.every((e) => e.usageCount === 2),
      3000,
      'statistics on each entry',
    )

    // A command naming the copy changes the copy, and serve follows: only "one" is used from then on.
    await setDisabled(proxy.store, 'two', true)
    await waitFor(() => proxy!.state.list('openai-custom')[1]!.disabled, 2000, 'the copy disabled')
    expect(proxy.state.list('openai-custom')[0]!.disabled).toBe(false)
    for (let i = 0; i < 2; i++) expect((await chat()).status).toBe(200)
    expect(fakeOne.count).toBe(4)
    expect(fakeTwo.count).toBe(2)
  })

  it('the board’s keys act on the entry shown, not on the first one with its uuid', async () => {
    fakeOne = await startOpenAIFake({name: 'one'})
    fakeTwo = await startOpenAIFake({name: 'two'})
    proxy = await startTestProxy({
      'openai-custom': [
        {...openaiInstance(fakeOne, 'one'), uuid: SHARED},
        {...openaiInstance(fakeTwo, 'two'), uuid: SHARED},
      ],
    })
    const actions = boardActions(proxy, () => {})
    const [first, copy] = proxy.state.list('openai-custom')
    expect(await actions.toggleDisabled(copy!.id)).toMatch(/Disabled openai-custom two/)
    const entries = (await proxy.readPool())['openai-custom']!
    expect(entries.map((e) => e.isDisabled ?? false)).toEqual([false, true])
    await actions.toggleDisabled(first!.id)
    expect((await proxy.readPool())['openai-custom']!.map((e) => e.isDisabled)).toEqual([true, true])
  })
})
