import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, tempDir} from '../helpers/cli.js'

let dir: string
let cleanup: () => Promise<void>
beforeEach(async () => ({dir, cleanup} = await tempDir()))
afterEach(async () => cleanup())

const cli = (args: string[]) => runCli(args, {cwd: dir})
const ALIASES = {'claude-kiro-oauth': {'claude-opus-5-*': 'claude-opus-4-8'}}

describe('model aliases from the command line', () => {
  it('config set stores modelAliases as checked JSON; config get and list show it', async () => {
    const set = await cli(['config', 'set', 'modelAliases', JSON.stringify(ALIASES)])
    expect(set.code, set.stderr).toBe(0)
    expect((await cli(['config', 'get', 'modelAliases'])).stdout.trim()).toBe(JSON.stringify(ALIASES))
    const listed = await cli(['config', 'list', '--json'])
    expect(JSON.parse(listed.stdout).find((r: {key: string}) => r.key === 'modelAliases').value).toEqual(ALIASES)
    expect((await cli(['config', 'list'])).stdout).toMatch(/^modelAliases\s+\{"claude-kiro-oauth":/m)

    const notJson = await cli(['config', 'set', 'modelAliases', '{claude'])
    expect(notJson.code).toBe(2)
    expect(notJson.stderr).toMatch(/modelAliases must be JSON/)
    const badShape = await cli(['config', 'set', 'modelAliases', '{"claude-kiro-oauth": {"claude-*": 1}}'])
    expect(badShape.code).toBe(2)
    expect(badShape.stderr).toContain('modelAliases.claude-kiro-oauth["claude-*"] must be the model name')
    // A refused value leaves the stored one alone.
    expect((await cli(['config', 'get', 'modelAliases'])).stdout.trim()).toBe(JSON.stringify(ALIASES))
  })

  it('serve refuses a bad MODEL_ALIASES in config.json as bad config, naming the path', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({MODEL_ALIASES: {'claude-kiro-oauth': {x: ''}}}))
    const serve = await cli(['serve', '--port', '0'])
    expect(serve.code).toBe(2)
    expect(serve.stderr).toContain('config.json: MODEL_ALIASES.claude-kiro-oauth["x"] must be the model name')
  })

  it('pool doctor names the path of a bad instance modelAliases', async () => {
    const file = join(dir, 'provider_pools.json')
    await writeFile(
      file,
      JSON.stringify({'openai-custom': [{uuid: 'u1', OPENAI_API_KEY: 'sk-x', modelAliases: ['a']}]}),
    )
    const doctor = await cli(['pool', 'doctor'])
    expect(doctor.code).not.toBe(0)
    expect(doctor.stdout + doctor.stderr).toContain('openai-custom[0].modelAliases')
  })
})
