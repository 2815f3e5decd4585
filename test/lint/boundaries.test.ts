import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {ESLint} from 'eslint'
import {describe, expect, it} from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
// The project's own config, run for the boundary rule alone and without type information, which it does not need.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {languageOptions: {parserOptions: {projectService: false, project: null}}},
  ruleFilter: ({ruleId}) => ruleId === 'no-restricted-imports',
})

/** The import-boundary errors ESLint reports for `code` as if it were the file at `filePath` (which need not exist). */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, {filePath: join(root, filePath)})
  return result!.messages
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message)
}

describe('the import-boundary lint rule', () => {
  it.each([
    ['src/core/pools/planted.ts', "import {theme} from '../../ui/theme.js'", /no ui, commands/],
    ['src/core/server/planted.ts', "import Serve from '../../commands/serve.js'", /no ui, commands/],
    ['src/core/pools/planted.ts', "import {Text} from 'ink'", /no ui, commands/],
    ['src/core/proxy/planted.ts', "import {startOpenAIFake} from '../../fakes/index.js'", /no test code/],
    ['src/core/proxy/planted.ts', "import {runCli} from '../../../test/helpers/cli.js'", /no test code/],
    ['src/core/codecs/planted.ts', "import type {PoolState} from '../pools/pool-state.js'", /Codecs are pure/],
    ['src/core/codecs/kiro/planted.ts', "import {sendError} from '../../server/respond.js'", /Codecs are pure/],
    ['src/core/codecs/planted.ts', "export {proxyRequest} from '../proxy/proxy.js'", /Codecs are pure/],
    ['src/core/providers/planted.ts', "import {proxyRequest} from '../proxy/proxy.js'", /below the proxy/],
  ])('fails %s importing across a boundary: %s', async (filePath, code, message) => {
    const errors = await boundaryErrors(filePath, `${code}\n`)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(message)
  })

  it.each([
    ['src/core/server/planted.ts', "import {codecs} from '../codecs/index.js'"],
    ['src/core/providers/planted.ts', "import {codecs} from '../codecs/index.js'"],
    ['src/commands/planted.ts', "import {theme} from '../ui/theme.js'"],
    ['src/core/pools/planted.test.ts', "import {runCli} from '../../../test/helpers/cli.js'"],
  ])('lets %s import downwards: %s', async (filePath, code) => {
    expect(await boundaryErrors(filePath, `${code}\n`)).toEqual([])
  })
})
