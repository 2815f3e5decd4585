import {chmod, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {EXAMPLE_POOLS, tempDir} from '../../../test/helpers/cli.js'
import {addInstance, removeInstance, resetInstances, setDisabled} from './operations.js'
import {entriesById} from './schema.js'
import {PoolStore} from './store.js'

let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
})
afterEach(async () => cleanup())

async function exampleStore(): Promise<PoolStore> {
  const file = join(dir, 'provider_pools.json')
  await writeFile(file, await readFile(EXAMPLE_POOLS))
  return new PoolStore(file)
}

describe('PoolStore', () => {
  it('loads the AIClient-2-API example, accepting its non-v4 uuid', async () => {
    const snapshot = await (await exampleStore()).read()
    expect(snapshot.instances).toHaveLength(6)
    expect(snapshot.instances.map((i) => i.uuid)).toContain('658a2114-c4c9-d713-b8d4-ceabf0e0bf18')
  })

  it('keeps every other key and field when adding, and the written file loads again', async () => {
    const store = await exampleStore()
    const before = JSON.parse(await readFile(store.file, 'utf8'))
    const doc = JSON.parse(await readFile(store.file, 'utf8'))
    doc.myNotes = {keep: ['me']}
    doc['openai-custom'][0].futureField = {nested: 1}
    await writeFile(store.file, JSON.stringify(doc))
    const added = await addInstance(store, {type: 'openai-custom', key: 'sk-new-key-0123456789'})
    const after = JSON.parse(await readFile(store.file, 'utf8'))
    expect(after.myNotes).toEqual({keep: ['me']})
    expect(after['openai-custom'][0]).toEqual({...before['openai-custom'][0], futureField: {nested: 1}})
    for (const type of Object.keys(before).filter((t) => t !== 'openai-custom'))
      expect(after[type]).toEqual(before[type])
    expect(after['openai-custom'].slice(0, 2)).toEqual([
      {...before['openai-custom'][0], futureField: {nested: 1}},
      before['openai-custom'][1],
    ])
    expect(after['openai-custom'][2]).toEqual({
      OPENAI_API_KEY: 'sk-new-key-0123456789',
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      checkModelName: null,
      uuid: added.uuid,
      isHealthy: true,
      lastUsed: null,
      usageCount: 0,
      errorCount: 0,
      lastErrorTime: null,
    })
    expect(added.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect((await store.read()).instances).toHaveLength(7)
  })

  it('writes mode 0600 and creates a missing directory 0700', async () => {
    const store = new PoolStore(join(dir, 'nested', 'deeper', 'pools.json'))
    await addInstance(store, {type: 'claude-custom', key: 'sk-ant-0123456789abcdef'})
    expect((await stat(store.file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700)
  })

  it('fills missing status fields in memory without rewriting a file it only read', async () => {
    const file = join(dir, 'pools.json')
    const text = JSON.stringify({'openai-custom': [{uuid: 'not-a-uuid-at-all', OPENAI_API_KEY: 'k'}]})
    await writeFile(file, text)
    const [instance] = (await new PoolStore(file).read()).instances
    expect(instance).toMatchObject({isHealthy: true, usageCount: 0, errorCount: 0, lastUsed: null, lastErrorTime: null})
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  it('reports malformed JSON with file, line and column and never writes', async () => {
    const file = join(dir, 'pools.json')
    const text = '{\n  "openai-custom": [\n    {"uuid": "a",}\n  ]\n}\n'
    await writeFile(file, text)
    const store = new PoolStore(file)
    await expect(store.read()).rejects.toThrow(`${file}:3:18: invalid JSON`)
    await expect(addInstance(store, {type: 'openai-custom', key: 'sk-0123456789abcdef'})).rejects.toThrow(
      /invalid JSON/,
    )
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  it('names the JSON path of a schema error', async () => {
    const file = join(dir, 'pools.json')
    await writeFile(file, JSON.stringify({'openai-custom': [{uuid: 'a'}, {uuid: 'b', OPENAI_BASE_URL: 'not a url'}]}))
    await expect(new PoolStore(file).read()).rejects.toThrow('openai-custom[1].OPENAI_BASE_URL: not a URL')
    await writeFile(file, JSON.stringify({'claude-custom': [{uuid: 'a', usageCount: 'many'}]}))
    await expect(new PoolStore(file).read()).rejects.toThrow('claude-custom[0].usageCount: must be a whole number')
    await writeFile(file, JSON.stringify({'claude-kiro-oauth': [{uuid: 'a', modelAliases: {'claude-*': 4}}]}))
    await expect(new PoolStore(file).read()).rejects.toThrow(
      'claude-kiro-oauth[0].modelAliases["claude-*"]: must be the model name the upstream is sent, not 4',
    )
  })

  it("keeps an instance's modelAliases as written through every write", async () => {
    const file = join(dir, 'pools.json')
    const aliases = {'claude-opus-5-*': 'claude-opus-4-8', b: 'c'}
    await writeFile(file, JSON.stringify({'openai-custom': [{uuid: 'a', OPENAI_API_KEY: 'k', modelAliases: aliases}]}))
    const store = new PoolStore(file)
    await setDisabled(store, 'a', true)
    const written = JSON.parse(await readFile(file, 'utf8'))['openai-custom'][0]
    expect(written).toMatchObject({isDisabled: true, modelAliases: aliases})
    expect(Object.keys(written.modelAliases)).toEqual(Object.keys(aliases))
  })

  it('resolves relative credential paths against the pool file directory', async () => {
    const store = await exampleStore()
    const gemini = (await store.read()).instances.find((i) => i.type === 'gemini-cli-oauth')!
    expect(gemini.credsFile).toBe(join(dir, 'credentials1.json'))
    expect(gemini.raw.GEMINI_OAUTH_CREDS_FILE_PATH).toBe('./credentials1.json')
  })

  it('refuses a duplicate key unless allowed, and an OAuth type without a parsable credential file', async () => {
    const store = await exampleStore()
    await expect(addInstance(store, {type: 'openai-custom', key: 'sk-openai-key1'})).rejects.toMatchObject({
      exit: 2,
      code: 'duplicate_key',
    })
    await addInstance(store, {type: 'openai-custom', key: 'sk-openai-key1', allowDuplicate: true})
    await writeFile(join(dir, 'bad.json'), '{"access_token": ')
    await expect(
      addInstance(store, {type: 'openai-qwen-oauth', credsFile: join(dir, 'bad.json')}),
    ).rejects.toMatchObject({
      exit: 1,
      code: 'bad_credentials_file',
      suggestions: [expect.stringContaining('aiclient auth login qwen')],
    })
    await expect(addInstance(store, {type: 'openai-qwen-oauth', credsFile: join(dir, 'missing.json')})).rejects.toThrow(
      /does not exist/,
    )
  })

  it('disables, enables, resets and removes by uuid prefix or name', async () => {
    const store = await exampleStore()
    await setDisabled(store, '2f579c65', true)
    expect((await store.read()).instances[0]!.isDisabled).toBe(true)
    await setDisabled(store, '2f579c65-d3c5-41b1-9985-9f6e3d7bf39c', false)
    expect((await store.read()).instances[0]!.isDisabled).toBe(false)
    const doc = JSON.parse(await readFile(store.file, 'utf8'))
    doc['claude-custom'][0].isHealthy = false
    doc['claude-custom'][0].errorCount = 7
    await writeFile(store.file, JSON.stringify(doc))
    await resetInstances(store, undefined, 'claude-custom')
    expect((await store.read()).instances.find((i) => i.type === 'claude-custom')).toMatchObject({
      isHealthy: true,
      errorCount: 0,
    })
    await addInstance(store, {type: 'openai-custom', key: 'sk-named-0123456789', name: 'work'})
    await removeInstance(store, 'work')
    expect((await store.read()).instances.some((i) => i.name === 'work')).toBe(false)
    await expect(removeInstance(store, '2f57')).rejects.toThrow(/at least 6 characters/)
  })

  it('lists the candidates for an ambiguous prefix', async () => {
    const file = join(dir, 'pools.json')
    await writeFile(file, JSON.stringify({'openai-custom': [{uuid: 'abcdef-1'}, {uuid: 'abcdef-2'}]}))
    await expect(setDisabled(new PoolStore(file), 'abcdef', true)).rejects.toThrow(
      /matches 2 instances:\n.*abcdef-1.*\n.*abcdef-2/,
    )
  })

  it('gives entries that share a uuid distinct ids, which never collide with another entry’s own uuid', async () => {
    const file = join(dir, 'pools.json')
    const list = [
      {uuid: 'a', customName: 'first'},
      {uuid: 'a#2'},
      {uuid: 'a', customName: 'copy'},
      {uuid: 'a', customName: 'third'},
    ]
    await writeFile(file, JSON.stringify({'openai-custom': list, 'claude-custom': [{uuid: 'a'}]}))
    const snapshot = await new PoolStore(file).read()
    expect(snapshot.instances.map((i) => i.id)).toEqual([
      'openai-custom/a',
      'openai-custom/a#2',
      'openai-custom/a#3',
      'openai-custom/a#4',
      'claude-custom/a',
    ])
    expect(snapshot.instances.map((i) => i.index)).toEqual([0, 1, 2, 3, 0])
    const byId = entriesById(snapshot.doc)
    expect(byId.get('openai-custom/a#3')).toBe(snapshot.instances[2]!.raw)
    expect(byId.get('openai-custom/a#3')!.customName).toBe('copy')
    expect(snapshot.warnings.map((w) => w.replace(/^.*?: /, '').split('. ')[0])).toEqual([
      'openai-custom[2].uuid duplicates openai-custom[0].uuid',
      'openai-custom[3].uuid duplicates openai-custom[0].uuid',
      'claude-custom[0].uuid duplicates openai-custom[0].uuid',
    ])
  })

  it('reports an unreadable pool file without touching it', async () => {
    await mkdir(join(dir, 'adir'))
    await expect(new PoolStore(join(dir, 'adir')).read()).rejects.toThrow(/Cannot read .*adir: it is a directory/)
  })

  it('reports an unwritable directory clearly', async () => {
    if (process.getuid?.() === 0) return // root writes anywhere; the CLI test covers the message path
    const ro = join(dir, 'ro')
    await mkdir(ro)
    await chmod(ro, 0o500)
    await expect(
      addInstance(new PoolStore(join(ro, 'p.json')), {type: 'openai-custom', key: 'sk-0123456789abcdef'}),
    ).rejects.toThrow(/Cannot write/)
  })
})
