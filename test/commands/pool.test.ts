import {spawn} from 'node:child_process'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {BIN, EXAMPLE_POOLS, runCli, tempDir, type CliResult} from '../helpers/cli.js'

const PLANTED = 'sk-planted-SECRET-9f8e7d6c5b4a3210'

let dir: string
let cleanup: () => Promise<void>
let pools: string

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
  pools = join(dir, 'provider_pools.json')
  const doc = JSON.parse(await readFile(EXAMPLE_POOLS, 'utf8'))
  doc['openai-custom'][0].OPENAI_API_KEY = PLANTED
  await writeFile(pools, JSON.stringify(doc, null, 2))
})
afterEach(async () => cleanup())

const cli = (args: string[], extra: {env?: Record<string, string>; stdin?: string} = {}) =>
  runCli(args, {cwd: dir, ...extra})

function expectNoSecret(result: CliResult): void {
  expect(result.stdout).not.toContain(PLANTED)
  expect(result.stderr).not.toContain(PLANTED)
}

describe('pool commands', () => {
  it('add prints a uuid, writes 0600, and --json prints the masked instance', async () => {
    const plain = await cli(['pool', 'add', 'openai-custom', '--key', 'sk-fresh-0123456789abcdef', '--name', 'fresh'])
    expect(plain.code).toBe(0)
    expect(plain.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/)
    expect((await stat(pools)).mode & 0o777).toBe(0o600)
    const json = await cli(['pool', 'add', 'claude-custom', '--json'], {
      env: {AICLIENT_KEY: 'sk-ant-fromenv-0123456789'},
    })
    expect(json.code).toBe(0)
    const payload = JSON.parse(json.stdout)
    expect(payload).toMatchObject({
      type: 'claude-custom',
      CLAUDE_BASE_URL: 'https://api.anthropic.com',
      isHealthy: true,
    })
    expect(payload.CLAUDE_API_KEY).not.toContain('fromenv')
    expect(JSON.parse(await readFile(pools, 'utf8'))['claude-custom'][1].CLAUDE_API_KEY).toBe(
      'sk-ant-fromenv-0123456789',
    )
  })

  it('add --key - reads the key from stdin', async () => {
    const result = await cli(['pool', 'add', 'openai-custom', '--key', '-', '--json'], {
      stdin: 'sk-stdin-0123456789abcdef\n',
    })
    expect(result.code).toBe(0)
    const doc = JSON.parse(await readFile(pools, 'utf8'))
    expect(doc['openai-custom'][2].OPENAI_API_KEY).toBe('sk-stdin-0123456789abcdef')
  })

  it('20 concurrent add processes yield 20 new instances and valid JSON', async () => {
    const results = await Promise.all(
      Array.from({length: 20}, (_, i) =>
        cli(['pool', 'add', 'openai-custom', '--key', `sk-concurrent-${i}-0123456789`]),
      ),
    )
    for (const result of results) expect(result.code, result.stderr).toBe(0)
    const doc = JSON.parse(await readFile(pools, 'utf8'))
    const keys = doc['openai-custom'].map((i: {OPENAI_API_KEY: string}) => i.OPENAI_API_KEY)
    for (let i = 0; i < 20; i++) expect(keys).toContain(`sk-concurrent-${i}-0123456789`)
    expect(doc['openai-custom']).toHaveLength(22)
    const uuids = new Set(results.map((r) => r.stdout.trim()))
    expect(uuids.size).toBe(20)
  }, 60_000)

  describe('failures leave the file byte-for-byte unchanged', () => {
    const cases: Array<{
      name: string
      setup?: () => Promise<string[]>
      args: () => string[]
      exit: number
      message: RegExp
    }> = [
      {
        name: 'malformed JSON',
        setup: async () => {
          await writeFile(
            pools,
            '{\n  "openai-custom": [\n    {"uuid": "x" "OPENAI_API_KEY": "' + PLANTED + '"}\n  ]\n}\n',
          )
          return []
        },
        args: () => ['pool', 'add', 'openai-custom', '--key', 'sk-another-0123456789'],
        exit: 1,
        message: /provider_pools\.json:3:\d+: invalid JSON/,
      },
      {
        name: 'a wrong field type',
        setup: async () => {
          const doc = JSON.parse(await readFile(pools, 'utf8'))
          doc['claude-custom'][0].isHealthy = 'yes'
          await writeFile(pools, JSON.stringify(doc))
          return []
        },
        args: () => ['pool', 'list'],
        exit: 1,
        message: /claude-custom\[0\]\.isHealthy: must be true or false/,
      },
      {
        name: 'an unknown type',
        args: () => ['pool', 'add', 'openai-cutsom', '--key', 'k'],
        exit: 2,
        message: /Unknown provider type "openai-cutsom". Did you mean "openai-custom"\?/,
      },
      {
        name: 'a missing required flag',
        args: () => ['pool', 'add', 'openai-custom'],
        exit: 2,
        message: /needs an API key/,
      },
      {
        name: 'a bad URL',
        args: () => ['pool', 'add', 'openai-custom', '--key', 'sk-x-0123456789abc', '--base-url', 'localhost:99'],
        exit: 2,
        message: /is not an http\(s\) URL/,
      },
      {
        name: 'a duplicate key',
        args: () => ['pool', 'add', 'openai-custom', '--key', PLANTED],
        exit: 2,
        message: /already in the openai-custom pool[\s\S]*--allow-duplicate/,
      },
      {
        name: 'an unreadable file',
        setup: async () => {
          await mkdir(join(dir, 'adir'))
          return ['--pools-file', join(dir, 'adir')]
        },
        args: () => ['pool', 'list'],
        exit: 1,
        message: /Cannot read .*adir: it is a directory/,
      },
      {
        name: 'a credential file that does not parse',
        setup: async () => {
          await writeFile(join(dir, 'qwen.json'), '{"access_token": "tok",')
          return []
        },
        args: () => ['pool', 'add', 'openai-qwen-oauth', '--creds-file', join(dir, 'qwen.json')],
        exit: 1,
        message: /Credential file .*qwen\.json is not valid JSON: at line 1, column \d+[\s\S]*aiclient auth login qwen/,
      },
      {
        name: 'a priority that is not a number',
        args: () => ['pool', 'add', 'openai-custom', '--key', 'sk-x-0123456789abc', '--priority', 'high'],
        exit: 2,
        message: /--priority must be a number, not "high"/,
      },
      {
        name: 'a negative weight',
        args: () => ['pool', 'set', '2f579c65', '--weight=-1'],
        exit: 2,
        message: /--weight must be a number ≥ 0, not "-1"/,
      },
      {
        name: 'an empty priority',
        args: () => ['pool', 'set', '2f579c65', '--priority='],
        exit: 2,
        message: /--priority must be a number, not ""/,
      },
      {
        name: 'a concurrency limit that is not a whole number',
        args: () => ['pool', 'set', '2f579c65', '--concurrency-limit', '1.5'],
        exit: 2,
        message: /--concurrency-limit must be a whole number ≥ 0 \(0 is no limit\), not "1\.5"/,
      },
      {
        name: 'a negative queue limit on add',
        args: () => ['pool', 'add', 'openai-custom', '--key', 'sk-x-0123456789abc', '--queue-limit=-2'],
        exit: 2,
        message: /--queue-limit must be a whole number ≥ 0 \(0 is no limit\), not "-2"/,
      },
      {
        name: 'set with nothing to set',
        args: () => ['pool', 'set', '2f579c65'],
        exit: 2,
        message: /Nothing to set: pass one or more of --priority, --weight, --concurrency-limit, --queue-limit/,
      },
      {
        name: 'set on an instance that does not exist',
        args: () => ['pool', 'set', 'nobody', '--priority', '1'],
        exit: 2,
        message: /No instance matches "nobody"/,
      },
      {
        name: 'a weight in the file that is not a number',
        setup: async () => {
          const doc = JSON.parse(await readFile(pools, 'utf8'))
          doc['claude-custom'][0].weight = '3'
          await writeFile(pools, JSON.stringify(doc))
          return []
        },
        args: () => ['pool', 'list'],
        exit: 1,
        message: /claude-custom\[0\]\.weight: must be a number ≥ 0/,
      },
      {
        name: 'a concurrency limit in the file that is not a whole number',
        setup: async () => {
          const doc = JSON.parse(await readFile(pools, 'utf8'))
          doc['claude-custom'][0].concurrencyLimit = 1.5
          await writeFile(pools, JSON.stringify(doc))
          return []
        },
        args: () => ['pool', 'list'],
        exit: 1,
        message: /claude-custom\[0\]\.concurrencyLimit: must be a whole number ≥ 0 \(0 is no limit\)/,
      },
      {
        name: 'a model list in the file with a name that is not a string',
        setup: async () => {
          const doc = JSON.parse(await readFile(pools, 'utf8'))
          doc['claude-custom'][0].notSupportedModels = ['claude-opus-4', 7]
          await writeFile(pools, JSON.stringify(doc))
          return []
        },
        args: () => ['pool', 'list'],
        exit: 1,
        message: /claude-custom\[0\]\.notSupportedModels\[1\]: must be a non-empty string/,
      },
      {
        name: 'remove without a TTY or --force',
        args: () => ['pool', 'remove', '2f579c65'],
        exit: 2,
        message: /Re-run with --force/,
      },
    ]
    for (const c of cases) {
      it(c.name, async () => {
        const extra = (await c.setup?.()) ?? []
        const before = await readFile(pools)
        const result = await cli([...c.args(), ...extra])
        expect(result.code, result.stderr).toBe(c.exit)
        expect(result.stderr).toMatch(c.message)
        expect(result.stderr).not.toMatch(/\n\s+at /)
        expectNoSecret(result)
        expect((await readFile(pools)).equals(before)).toBe(true)
        const json = await cli([...c.args(), ...extra, '--json'])
        expect(json.code).toBe(c.exit)
        expect(JSON.parse(json.stdout).error.message).toMatch(new RegExp(c.message.source.split('[\\s\\S]')[0]!))
        expectNoSecret(json)
        expect((await readFile(pools)).equals(before)).toBe(true)
      })
    }
  })

  it('never prints the planted key: list, list --json, enable/disable/reset/remove', async () => {
    const runs = [
      await cli(['pool', 'list']),
      await cli(['pool', 'list', '--json']),
      await cli(['pool', 'list', '--type', 'openai-custom', '--json']),
      await cli(['pool', 'disable', '2f579c65', '--json']),
      await cli(['pool', 'enable', '2f579c65']),
      await cli(['pool', 'reset', '--json']),
      await cli(['pool', 'remove', '2f579c65', '--force', '--json']),
    ]
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0)
      expectNoSecret(run)
    }
    const listed = JSON.parse(runs[1]!.stdout)
    expect(listed).toHaveLength(6)
    expect(listed[0]).toMatchObject({
      type: 'openai-custom',
      state: 'healthy',
      uuid: '2f579c65-d3c5-41b1-9985-9f6e3d7bf39c',
    })
    expect(listed[0].OPENAI_API_KEY).toMatch(/^sk-…3210$/)
    expect(JSON.parse(runs[3]!.stdout)).toMatchObject({isDisabled: true})
    expect(JSON.parse(runs[6]!.stdout).removed.uuid).toBe('2f579c65-d3c5-41b1-9985-9f6e3d7bf39c')
    expect(JSON.parse(await readFile(pools, 'utf8'))['openai-custom']).toHaveLength(1)
  })

  it('list shows states and relative times in a table without colour when piped', async () => {
    const doc = JSON.parse(await readFile(pools, 'utf8'))
    doc['claude-custom'][0] = {
      ...doc['claude-custom'][0],
      isHealthy: false,
      lastErrorReason: 'auth',
      errorCount: 3,
      lastErrorTime: new Date(Date.now() - 120_000).toISOString(),
    }
    doc['openai-custom'][1].isDisabled = true
    // Thirty seconds back, so a CLI slow to start on a busy machine still reads "3Xs ago".
    doc['openai-custom'][0].lastUsed = new Date(Date.now() - 30_000).toISOString()
    await writeFile(pools, JSON.stringify(doc))
    const result = await cli(['pool', 'list'])
    expect(result.stdout).toMatch(/TYPE\s+NAME\s+UUID\s+STATE\s+REQUESTS\s+ERRORS\s+LAST USED\s+LAST ERROR/)
    expect(result.stdout).toMatch(/claude-custom\s+-\s+bb87047a\s+✖ unhealthy: auth\s+0\s+3\s+never\s+2m ago \(auth\)/)
    expect(result.stdout).toMatch(/openai-custom\s+-\s+e284628d\s+○ disabled/)
    expect(result.stdout).toMatch(/2f579c65\s+● healthy\s+0\s+0\s+3\ds ago/)
    expect(result.stdout).not.toContain('\u001b[')
  })

  it('add, set and list carry priority and weight, and set keeps every other field of the entry', async () => {
    const added = await cli([
      'pool',
      'add',
      'openai-custom',
      '--key',
      'sk-tiered-0123456789abcdef',
      '--name',
      'backup',
      '--priority=-1',
      '--weight',
      '0.5',
      '--json',
    ])
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({priority: -1, weight: 0.5})
    const doc = JSON.parse(await readFile(pools, 'utf8'))
    expect(doc['openai-custom'][2]).toMatchObject({customName: 'backup', priority: -1, weight: 0.5})
    // Fields of another tool's (AIClient-2-API's) or the user's own must survive our write.
    doc['openai-custom'][0].concurrencyLimit = 4
    doc['openai-custom'][0].notes = {keep: ['me']}
    await writeFile(pools, JSON.stringify(doc, null, 2))
    const untouched = JSON.stringify(doc['openai-custom'][1])

    const set = await cli(['pool', 'set', '2f579c65', '--priority', '10', '--weight', '3'])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(/Set priority 10 and weight 3 on openai-custom .*2f579c65/)
    const weightOnly = await cli(['pool', 'set', 'backup', '--weight', '0', '--json'])
    expect(JSON.parse(weightOnly.stdout)).toMatchObject({name: 'backup', priority: -1, weight: 0})
    const after = JSON.parse(await readFile(pools, 'utf8'))
    expect(after['openai-custom'][0]).toEqual({...doc['openai-custom'][0], priority: 10, weight: 3})
    expect(JSON.stringify(after['openai-custom'][1])).toBe(untouched)
    expect(after['openai-custom'][2]).toEqual({...doc['openai-custom'][2], weight: 0})

    const listed = JSON.parse((await cli(['pool', 'list', '--type', 'openai-custom', '--json'])).stdout)
    expect(listed.map((i: {priority: number; weight: number}) => [i.priority, i.weight])).toEqual([
      [10, 3],
      [0, 1],
      [-1, 0],
    ])
    // The columns appear once an instance leaves the defaults (see the plain table below, which has none).
    const table = (await cli(['pool', 'list', '--type', 'openai-custom'])).stdout
    expect(table).toMatch(/STATE\s+PRIORITY\s+WEIGHT\s+REQUESTS/)
    expect(table).toMatch(/2f579c65\s+● healthy\s+10\s+3\s/)
    expect(table).toMatch(/backup\s+\S+\s+● healthy\s+-1\s+0\s/)
  })

  it('list carries the limits and model lists, and set keeps them in the file', async () => {
    const doc = JSON.parse(await readFile(pools, 'utf8'))
    const limits = {
      concurrencyLimit: 4,
      queueLimit: 8,
      supportedModels: ['gpt-4o*'],
      notSupportedModels: ['gpt-4o-audio'],
    }
    Object.assign(doc['openai-custom'][0], limits)
    await writeFile(pools, JSON.stringify(doc, null, 2))
    expect((await cli(['pool', 'set', '2f579c65', '--priority', '2'])).code).toBe(0)
    const after = JSON.parse(await readFile(pools, 'utf8'))
    expect(after['openai-custom'][0]).toEqual({...doc['openai-custom'][0], priority: 2})
    const listed = JSON.parse((await cli(['pool', 'list', '--type', 'openai-custom', '--json'])).stdout)
    expect(listed[0]).toMatchObject(limits)
    // An instance without them shows the defaults: no limit, no queue.
    expect(listed[1]).toMatchObject({concurrencyLimit: 0, queueLimit: 0})
    expect(listed[1]).not.toHaveProperty('supportedModels')
  })

  it('add and set write the limits and model lists from flags; an empty list takes the field out', async () => {
    const added = await cli([
      'pool',
      'add',
      'openai-custom',
      '--key',
      'sk-limited-0123456789',
      '--name',
      'limited',
      '--concurrency-limit',
      '2',
      '--queue-limit',
      '4',
      '--supported-models',
      'gpt-5*, o3',
      '--json',
    ])
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({
      concurrencyLimit: 2,
      queueLimit: 4,
      supportedModels: ['gpt-5*', 'o3'],
    })
    const before = JSON.parse(await readFile(pools, 'utf8'))['openai-custom'][2]

    const set = await cli([
      'pool',
      'set',
      'limited',
      '--supported-models',
      '',
      '--not-supported-models',
      'o3-pro',
      '--concurrency-limit',
      '0',
    ])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(
      /Set concurrencyLimit 0, supportedModels cleared and notSupportedModels o3-pro on openai-custom/,
    )
    const after = JSON.parse(await readFile(pools, 'utf8'))['openai-custom'][2]
    const {supportedModels: _cleared, ...rest} = before
    expect(after).toEqual({...rest, concurrencyLimit: 0, notSupportedModels: ['o3-pro']})
    const json = JSON.parse((await cli(['pool', 'set', 'limited', '--queue-limit', '1', '--json'])).stdout)
    expect(json).toMatchObject({
      concurrencyLimit: 0,
      queueLimit: 1,
      supportedModels: null,
      notSupportedModels: ['o3-pro'],
    })
  })

  it('stores credential paths absolute and accepts uuid prefixes of 6+ characters', async () => {
    await writeFile(join(dir, 'kiro.json'), JSON.stringify({accessToken: 'a', refreshToken: 'r'}))
    const added = await runCli(['pool', 'add', 'claude-kiro-oauth', '--creds-file', 'kiro.json', '--json'], {cwd: dir})
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout).KIRO_OAUTH_CREDS_FILE_PATH).toBe(join(dir, 'kiro.json'))
    const short = await cli(['pool', 'disable', '2f579c'])
    expect(short.code).toBe(0)
    const tooShort = await cli(['pool', 'disable', '2f57'])
    expect(tooShort.code).toBe(2)
    expect(tooShort.stderr).toMatch(/at least 6 characters/)
  })

  it('remove asks in a terminal; answering no changes nothing, yes removes', async () => {
    // A pseudo-terminal through `script` makes stdin and stdout TTYs, as for a person at the keyboard.
    const run = (answer: string) =>
      new Promise<string>((resolve) => {
        const child = spawn('script', ['-qec', `${process.execPath} ${BIN} pool remove 2f579c65`, '/dev/null'], {
          cwd: dir,
          env: {PATH: process.env.PATH, HOME: dir, AICLIENT_CONFIG_DIR: join(dir, '.cfg'), TERM: 'dumb'},
        })
        let out = ''
        let answered = false
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          // Once: output that follows the prompt must not answer again into a terminal that may have closed.
          if (!answered && out.includes('[y/N]')) {
            answered = true
            child.stdin.write(`${answer}\r`)
          }
        })
        child.on('close', (code) => resolve(`${out}\nEXIT:${code}`))
      })
    const no = await run('n')
    expect(no).toMatch(/Remove openai-custom 2f579c65/)
    expect(no).toMatch(/EXIT:130/)
    expect(JSON.parse(await readFile(pools, 'utf8'))['openai-custom']).toHaveLength(2)
    const yes = await run('y')
    expect(yes).toMatch(/Removed openai-custom/)
    expect(yes).toMatch(/EXIT:0/)
    expect(JSON.parse(await readFile(pools, 'utf8'))['openai-custom']).toHaveLength(1)
  })
})

describe('which pool file', () => {
  it('follows flag → AICLIENT_POOLS_FILE → config.json → user setting → ./provider_pools.json', async () => {
    const path = async (env: Record<string, string> = {}, args: string[] = []) =>
      JSON.parse((await cli(['config', 'path', '--json', ...args], {env})).stdout) as {
        poolsFile: string
        poolsFileSource: string
      }
    expect(await path()).toMatchObject({poolsFile: pools, poolsFileSource: 'default'})
    expect((await cli(['config', 'set', 'poolsFile', 'from-settings.json'])).code).toBe(0)
    expect(await path()).toMatchObject({poolsFile: join(dir, 'from-settings.json'), poolsFileSource: 'settings'})
    await mkdir(join(dir, 'cfg'))
    await writeFile(
      join(dir, 'cfg', 'config.json'),
      JSON.stringify({PROVIDER_POOLS_FILE_PATH: 'from-config.json', MODEL_PROVIDER: 'openai-custom'}),
    )
    expect(await path({}, ['--config', join(dir, 'cfg', 'config.json')])).toMatchObject({
      poolsFile: join(dir, 'cfg', 'from-config.json'),
      poolsFileSource: 'config.json',
    })
    await writeFile(join(dir, 'config.json'), JSON.stringify({PROVIDER_POOLS_FILE_PATH: 'cwd-config.json'}))
    expect(await path()).toMatchObject({poolsFile: join(dir, 'cwd-config.json'), poolsFileSource: 'config.json'})
    expect(await path({AICLIENT_POOLS_FILE: join(dir, 'env.json')})).toMatchObject({
      poolsFile: join(dir, 'env.json'),
      poolsFileSource: 'env',
    })
    expect(
      await path({AICLIENT_POOLS_FILE: join(dir, 'env.json')}, ['--provider-pools-file', 'flag.json']),
    ).toMatchObject({
      poolsFile: join(dir, 'flag.json'),
      poolsFileSource: 'flag',
    })
  })

  it('config get/set/list validate keys and mask the API key', async () => {
    expect((await cli(['config', 'set', 'port', 'eighty'])).code).toBe(2)
    const typo = await cli(['config', 'set', 'prot', '80'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/Did you mean "port"/)
    expect((await cli(['config', 'set', 'apiKey', PLANTED])).code).toBe(0)
    const listed = await cli(['config', 'list', '--json'])
    expectNoSecret(listed)
    expect(JSON.parse(listed.stdout).find((r: {key: string}) => r.key === 'apiKey').value).toMatch(/…3210$/)
    expectNoSecret(await cli(['config', 'get', 'apiKey']))
    expect((await cli(['config', 'get', 'port'])).code).toBe(1)
  })
})

describe('help', () => {
  it('lists the topics, and every command shows examples', async () => {
    const root = await cli(['--help'])
    expect(root.stdout).toMatch(/TOPICS[\s\S]*pool/)
    expect(root.stdout).toMatch(/config/)
    const manifest = JSON.parse(await readFile(new URL('../../oclif.manifest.json', import.meta.url), 'utf8'))
    for (const id of Object.keys(manifest.commands)) {
      const help = await cli([...id.split(':'), '-h'])
      expect(help.code, id).toBe(0)
      expect(help.stdout, id).toMatch(/EXAMPLES\n\s+\$ aiclient/)
      expect(help.stdout, id).toMatch(/DESCRIPTION/)
    }
  }, 60_000)
})
