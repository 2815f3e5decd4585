import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, tempDir} from '../helpers/cli.js'

let dir: string
let cleanup: () => Promise<void>
beforeEach(async () => ({dir, cleanup} = await tempDir()))
afterEach(async () => cleanup())

describe('serve refuses bad fallback settings in config.json as bad config', () => {
  it.each([
    [
      {providerFallbackChain: {'claude-kiro-oauth': ['claude-custom', 'claude-kiro-oauth']}},
      'config.json: providerFallbackChain.claude-kiro-oauth names its own type; a type cannot fall back to itself.',
    ],
    [
      {providerFallbackChain: {'claude-kiro-oauth': 'claude-custom'}},
      'config.json: providerFallbackChain.claude-kiro-oauth must be a list of provider types, not "claude-custom".',
    ],
    [
      {modelFallbackMapping: {'claude-opus-5-5': 'gemini-2.5-pro'}},
      'config.json: modelFallbackMapping["claude-opus-5-5"] must be {"targetProviderType": "<provider type>", "targetModel": "<model>"}',
    ],
  ])('%j', async (config, message) => {
    await writeFile(join(dir, 'config.json'), JSON.stringify(config))
    const serve = await runCli(['serve', '--port', '0'], {cwd: dir})
    expect(serve.code).toBe(2)
    expect(serve.stderr).toContain(message)
  })
})
