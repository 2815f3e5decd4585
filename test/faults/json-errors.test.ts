import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runCli, tempDir, type CliResult} from '../helpers/cli.js'

const SECRET = 'sk-proj-Q7v9XbT2mKpL4sN8wRfY3hJ6'

let dir: string
let cleanup: () => Promise<void>
beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
})
afterEach(async () => cleanup())

const cli = (...args: string[]) => runCli(args, {cwd: dir})

/** No run of 6 or more characters of `secret` appears (the mask's last four are allowed). */
function expectNothingOf(secret: string, result: CliResult): void {
  const out = result.stdout + result.stderr
  for (let i = 0; i + 6 <= secret.length; i++)
    expect(out, `leaks ${secret.slice(i, i + 6)}`).not.toContain(secret.slice(i, i + 6))
}

describe('JSON syntax errors', () => {
  it('an unquoted value in the pool file: the real line and column, the line shown with the value masked', async () => {
    const text = [
      '{',
      '  "openai-custom": [',
      '    {',
      `      "OPENAI_API_KEY": ${SECRET},`,
      '      "uuid": "5d1c0f0e-0000-4000-8000-00000000abcd"',
      '    }',
      '  ]',
      '}',
      '',
    ].join('\n')
    await writeFile(join(dir, 'provider_pools.json'), text)
    const result = await cli('pool', 'list')
    expect(result.code).toBe(1)
    // Line 4, column 25: where the unquoted value starts, not the end of the file.
    expect(result.stderr).toMatch(/provider_pools\.json:4:25: invalid JSON \(a value was expected/)
    expect(result.stderr).toContain(`4 |       "OPENAI_API_KEY": sk-…${SECRET.slice(-4)},`)
    const [, shown, caret] = /\n(4 \| .*)\n(\s+\| +\^)\n/.exec(result.stderr)!
    expect(caret!.indexOf('^')).toBe(shown!.indexOf('sk-…'))
    expectNothingOf(SECRET, result)
    const json = await cli('pool', 'list', '--json')
    expect(JSON.parse(json.stdout).error.message).toMatch(/:4:25: invalid JSON/)
    expectNothingOf(SECRET, json)
  })

  it('a config.json with a broken secret line is reported the same way', async () => {
    const text = `{"SERVER_PORT": 3000, "REQUIRED_API_KEY": "${SECRET}" "HOST": "127.0.0.1"}`
    await writeFile(join(dir, 'config.json'), text)
    const result = await cli('pool', 'list')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      `config.json:1:${text.indexOf('"HOST"') + 1}: invalid JSON (',' or '}' was expected)`,
    )
    expectNothingOf(SECRET, result)
  })

  it('pool add --creds-file on a file that is not JSON names the position and shows none of it', async () => {
    const shadow = join(dir, 'shadow')
    const content = 'root:$6$Zq81wXy2$Lk3PmN7oQr5StUv9WxYz1AbCdEfGh:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n'
    await writeFile(shadow, content)
    const result = await cli('pool', 'add', 'openai-qwen-oauth', '--creds-file', shadow)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /Credential file .*shadow is not valid JSON: at line 1, column 1, .*\(the content is not shown\)/,
    )
    expectNothingOf(content.slice(0, 40), result)
    expect(result.stderr).not.toContain('root')
    // A file that parses but is not an object says so, again without content.
    await writeFile(shadow, '"root:x:0:0"')
    const scalar = await cli('pool', 'add', 'openai-qwen-oauth', '--creds-file', shadow)
    expect(scalar.code).toBe(1)
    expect(scalar.stderr).toMatch(/does not hold a JSON object/)
    expect(scalar.stderr).not.toContain('root')
    expect(await readFile(join(dir, 'provider_pools.json')).catch(() => null)).toBeNull()
  })
})
