import {execFileSync, spawn} from 'node:child_process'
import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {ROOT} from '../helpers/cli.js'
import {openaiInstance, post, startTestProxy, waitFor, type TestProxy, useProxyHarness} from '../helpers/proxy.js'

let fake: FakeUpstream | undefined
const h = useProxyHarness()
let immutable: string | undefined

afterEach(async () => {
  if (immutable) execFileSync('chattr', ['-i', immutable])
  immutable = undefined
})

const chat = () =>
  post(`${h.proxy!.url}/openai-custom/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})

async function setup(): Promise<TestProxy> {
  fake = await startOpenAIFake({name: 'up'})
  h.fakes = [fake]
  h.proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(fake, 'a'), openaiInstance(fake, 'b')]},
    {flushDelayMs: 100, pollMs: 50},
  )
  return h.proxy
}

/** Whether this filesystem lets root make a directory immutable, the one way to refuse root a write. */
function canMakeImmutable(dir: string): boolean {
  try {
    execFileSync('chattr', ['+i', dir], {stdio: 'ignore'})
    execFileSync('chattr', ['-i', dir], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

describe('the pool file while serving', () => {
  it('a valid hand edit is picked up', async () => {
    const p = await setup()
    const doc = await p.readPool()
    doc['openai-custom']!.push(openaiInstance(fake!, 'c'))
    doc['openai-custom']![0]!.isDisabled = true
    await writeFile(p.poolsFile, JSON.stringify(doc, null, 2))
    await waitFor(
      () => p.state.list('openai-custom').length === 3 && p.state.list('openai-custom')[0]!.disabled,
      2000,
      'the edit',
    )
  })

  it('an invalid edit is reported, the last good pool keeps serving, and the broken file is left alone until fixed', async () => {
    const p = await setup()
    expect((await chat()).status).toBe(200)
    await waitFor(
      async () => (await p.readPool())['openai-custom']!.some((i) => i.usageCount === 1),
      2000,
      'first flush',
    )
    const broken = '{"openai-custom": [ {"uuid": "a-uuid-0000",, } ]'
    await writeFile(p.poolsFile, broken)
    await waitFor(() => p.warnings.some((w) => /invalid JSON/.test(w) && /last good pool/.test(w)), 2000, 'the warning')
    for (let i = 0; i < 4; i++) expect((await chat()).status).toBe(200)
    // A flush attempted now, rather than after a wait: it must leave the file as it is.
    await p.sync.flush()
    expect(await readFile(p.poolsFile, 'utf8')).toBe(broken)
    // Fixed: the statistics kept in memory meanwhile are written into the repaired file.
    await writeFile(
      p.poolsFile,
      JSON.stringify({'openai-custom': [openaiInstance(fake!, 'a'), openaiInstance(fake!, 'b')]}),
    )
    await waitFor(
      async () => {
        const list = (await p.readPool())['openai-custom']!
        return list.reduce((sum, i) => sum + Number(i.usageCount), 0) === 4
      },
      3000,
      'the held statistics',
    )
    await waitFor(() => p.warnings.some((w) => /usable again/.test(w)), 2000, 'the all-clear')
  })

  it('deleted: keeps serving, does not re-create it, and uses it again when it is back', async () => {
    const p = await setup()
    await rm(p.poolsFile)
    await waitFor(() => p.warnings.some((w) => /was deleted/.test(w)), 2000, 'the warning')
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200)
    // A flush attempted now, rather than after a wait: it must leave the file as it is.
    await p.sync.flush()
    await expect(readFile(p.poolsFile)).rejects.toThrow(/ENOENT/)
    await writeFile(
      p.poolsFile,
      JSON.stringify({'openai-custom': [openaiInstance(fake!, 'a'), openaiInstance(fake!, 'b')]}),
    )
    await waitFor(
      async () => ((await p.readPool())['openai-custom'] ?? []).reduce((sum, i) => sum + Number(i.usageCount), 0) === 3,
      3000,
      'statistics after return',
    )
  })

  it('unwritable: warns, keeps serving, and writes once it can', async (ctx) => {
    const p = await setup()
    if (!canMakeImmutable(p.dir)) ctx.skip('chattr is unavailable here, and nothing else refuses root a write')
    execFileSync('chattr', ['+i', p.dir])
    immutable = p.dir
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200)
    await waitFor(() => p.warnings.some((w) => /Could not save statistics/.test(w)), 3000, 'the warning')
    execFileSync('chattr', ['-i', p.dir])
    immutable = undefined
    await waitFor(
      async () => (await p.readPool())['openai-custom']!.reduce((sum, i) => sum + Number(i.usageCount), 0) === 3,
      3000,
      'the retry',
    )
  })

  it('100 concurrent writers from other processes while serve flushes: no update lost', async () => {
    const p = await setup()
    // Ten processes each add ten instances through the same store code the CLI uses.
    const writer = `
      const {PoolStore} = await import(${JSON.stringify(join(ROOT, 'dist/core/pools/store.js'))})
      const {addInstance} = await import(${JSON.stringify(join(ROOT, 'dist/core/pools/operations.js'))})
      const store = new PoolStore(process.argv[1])
      for (let i = 0; i < 10; i++) await addInstance(store, {type: 'claude-custom', key: 'sk-ant-w' + process.argv[2] + '-' + i + '-0123456789'})
    `
    const writers = Array.from(
      {length: 10},
      (_, w) =>
        new Promise<number | null>((resolve) =>
          spawn(process.execPath, ['--input-type=module', '-e', writer, p.poolsFile, String(w)], {stdio: 'inherit'}).on(
            'close',
            resolve,
          ),
        ),
    )
    let served = 0
    const traffic = (async () => {
      for (let i = 0; i < 60; i++) {
        if ((await chat()).status === 200) served++
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    expect(await Promise.all(writers)).toEqual(Array(10).fill(0))
    await traffic
    await p.stop()
    const doc = await p.readPool()
    expect(doc['claude-custom']).toHaveLength(100)
    expect(new Set(doc['claude-custom']!.map((i) => i.CLAUDE_API_KEY)).size).toBe(100)
    expect(doc['openai-custom']!.reduce((sum, i) => sum + Number(i.usageCount), 0)).toBe(served)
    expect(served).toBe(60)
  }, 30_000)
})
