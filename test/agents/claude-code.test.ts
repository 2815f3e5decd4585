// The real Claude Code through `aiclient serve` into upstreams of other protocols, with its default model: the
// upstream first calls Claude Code's Write tool, which Claude Code runs in its working directory before sending
// the result back, and then answers with the final text.
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream, type RecordedRequest, type ToolCallSpec} from '../fakes/index.js'
import {tempDir} from '../helpers/cli.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {openaiInstance} from '../helpers/proxy.js'
import {startServeProcess, type ServeProcess} from '../helpers/serve-process.js'
import {upstreamView} from '../helpers/upstream-view.js'
import {AGENTS} from './install.js'
import {claudeCodeResult, runClaudeCode, type ClaudeCodeRun} from './claude-code.js'

const claude = inject('agents').claudeCode
const KEY = 'sk-aiclient-agents-0123456789'

interface Case {
  type: 'openai-custom' | 'gemini-cli-oauth' | 'claude-kiro-oauth'
  /** The call id the upstream gives; Gemini's upstreams mostly give none */
  callId?: string
  fake: () => FakeUpstream
}

describe.skipIf(!claude?.ok)(`${AGENTS.claudeCode.name} ${AGENTS.claudeCode.version} through serve`, () => {
  const bin = claude?.ok ? claude.bin : ''
  let dir: string
  let cleanup: () => Promise<void>
  let openai: FakeUpstream
  let oauth: OAuthUpstreams
  let serve: ServeProcess
  let runs = 0
  let serveExit: number | string | undefined

  beforeAll(async () => {
    ;({dir, cleanup} = await tempDir('aiclient-agents-'))
    ;[openai, oauth] = await Promise.all([startOpenAIFake({name: 'openai'}), startOAuthUpstreams()])
    const {'openai-qwen-oauth': _qwen, ...oauthPools} = oauth.pool()
    const pools = {'openai-custom': [openaiInstance(openai, 'openai')], ...oauthPools}
    const env = {...oauth.googleAuth.env, ...oauth.kiroAuth.env}
    serve = await startServeProcess(dir, pools, {REQUIRED_API_KEY: KEY}, [], env)
    void serve.exited.then((code) => (serveExit = code ?? 'signal'))
  })

  afterAll(async () => {
    await serve?.stop()
    await Promise.all([openai?.close(), oauth?.close()])
    await cleanup?.()
  })

  const cases: Case[] = [
    {type: 'openai-custom', callId: 'call_claude_write_1', fake: () => openai},
    {type: 'gemini-cli-oauth', fake: () => oauth.codeAssist},
    {type: 'claude-kiro-oauth', callId: 'tooluse_claude_write_1', fake: () => oauth.kiro as unknown as FakeUpstream},
  ]

  const run = async (c: Case, prompt: string): Promise<ClaudeCodeRun> => {
    // A serve that died in an earlier test would only make Claude Code wait out its timeout here.
    expect(serveExit, `serve has exited:\n${serve.output()}`).toBeUndefined()
    const result = await runClaudeCode(bin, join(dir, `run-${runs++}`), {
      baseUrl: `${serve.url}/${c.type}`,
      key: KEY,
      prompt,
      allowedTools: ['Write'],
    })
    const context = `claude exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nserve:\n${serve.output()}`
    expect(result.code, context).toBe(0)
    return result
  }

  for (const c of cases) {
    it(`${c.type}: writes the file the upstream's Write call asks for, then ends the turn with the final text`, async () => {
      const fake = c.fake()
      fake.reset()
      const marker = `marker-${c.type}-${Date.now()}`
      const final = `Wrote the marker for ${c.type}.`
      const dirOfRun = join(dir, `run-${runs}`, 'work')
      const filePath = join(dirOfRun, 'marker.txt')
      const call: ToolCallSpec = {name: 'Write', arguments: {file_path: filePath, content: marker}}
      if (c.callId) call.id = c.callId
      // The turn offers Write: call it once, then answer once its result is back. Side requests get the text.
      const generations: RecordedRequest[] = []
      fake.script.handler = (req, _n, conversation) => {
        generations.push(req)
        const offersWrite = conversation.tools.some((tool) => tool.name === 'Write')
        const reply = offersWrite && !conversation.toolResults ? {toolCalls: [call]} : {text: final}
        return {kind: 'reply', reply}
      }
      const result = await run(c, 'Write the marker file.')
      expect(result.cwd).toBe(dirOfRun)
      const outcome = claudeCodeResult(result)
      expect(outcome, result.stdout).toMatchObject({type: 'result', is_error: false, result: final})
      expect(await readFile(filePath, 'utf8')).toBe(marker)
      // The Write result came back to the upstream in its own protocol, tied to the call.
      // Code Assist wraps the Gemini request in an envelope.
      const views = generations.map((r) => upstreamView(fake.protocol, r.body.request ?? r.body))
      const answered = views.find((view) => view.results.length > 0)
      expect(answered?.calls).toMatchObject([{name: 'Write', arguments: {file_path: filePath, content: marker}}])
      expect(answered?.results).toHaveLength(1)
      expect(answered?.results[0]?.id).toBe(answered?.calls[0]?.id)
    })
  }
})
