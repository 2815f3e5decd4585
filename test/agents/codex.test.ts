// The real Codex CLI 0.171.0 through `aiclient serve` into each kind of upstream: a plain turn, and a turn whose
// upstream first calls Codex's shell tool, which Codex runs before sending the output back, and a turn that finds
// and calls a tool of an MCP server through Codex's tool search.
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {
  startAnthropicFake,
  startKiroFake,
  startOpenAIFake,
  toolRoundTrip,
  type FakeUpstream,
  type KiroFakeUpstream,
  type RecordedRequest,
} from '../fakes/index.js'
import {startFakeKiroAuthService, type FakeKiroAuthService} from '../fakes/oauth/index.js'
import {tempDir} from '../helpers/cli.js'
import {claudeInstance, openaiInstance} from '../helpers/proxy.js'
import {startServeProcess, type ServeProcess} from '../helpers/serve-process.js'
import {upstreamView} from '../helpers/upstream-view.js'
import {runCodex, type CodexRun} from './codex.js'

const codex = inject('agents').codex
const KEY = 'sk-aiclient-agents-0123456789'

interface Case {
  type: 'openai-custom' | 'claude-custom' | 'claude-kiro-oauth'
  model: string
  callId: string
  fake: () => FakeUpstream
}

describe.skipIf(!codex?.ok)('Codex CLI 0.171.0 through serve', () => {
  const bin = codex?.ok ? codex.bin : ''
  let dir: string
  let cleanup: () => Promise<void>
  let openai: FakeUpstream
  let anthropic: FakeUpstream
  let kiro: KiroFakeUpstream
  let kiroAuth: FakeKiroAuthService
  let serve: ServeProcess
  let runs = 0
  let serveExit: number | string | undefined

  beforeAll(async () => {
    ;({dir, cleanup} = await tempDir('aiclient-agents-'))
    ;[openai, anthropic, kiro, kiroAuth] = await Promise.all([
      startOpenAIFake({name: 'openai'}),
      startAnthropicFake({name: 'anthropic'}),
      startKiroFake({name: 'kiro'}),
      startFakeKiroAuthService(),
    ])
    const kiroCreds = join(dir, 'kiro.json')
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    await writeFile(
      kiroCreds,
      JSON.stringify({
        ...kiroAuth.issueTokens(),
        expiresAt,
        authMethod: 'social',
        provider: 'Github',
        region: 'us-east-1',
      }),
    )
    const pools = {
      'openai-custom': [openaiInstance(openai, 'openai')],
      'claude-custom': [claudeInstance(anthropic, 'anthropic')],
      'claude-kiro-oauth': [
        {KIRO_OAUTH_CREDS_FILE_PATH: kiroCreds, KIRO_BASE_URL: kiro.url, customName: 'kiro', uuid: 'kiro-uuid-0000'},
      ],
    }
    serve = await startServeProcess(dir, pools, {REQUIRED_API_KEY: KEY}, [], kiroAuth.env)
    void serve.exited.then((code) => (serveExit = code ?? 'signal'))
  })

  afterAll(async () => {
    await serve?.stop()
    await Promise.all([openai, anthropic, kiro, kiroAuth].map((f) => f?.close()))
    await cleanup?.()
  })

  const cases: Case[] = [
    {type: 'openai-custom', model: 'gpt-5.5', callId: 'call_codex_shell_1', fake: () => openai},
    {
      type: 'claude-custom',
      model: 'claude-sonnet-4-6',
      callId: 'toolu_codex_shell_1',
      fake: () => anthropic,
    },
    {
      type: 'claude-kiro-oauth',
      model: 'claude-sonnet-4-6',
      callId: 'tooluse_codex_shell_1',
      // Its own behaviours aside, the Kiro fake scripts like the others.
      fake: () => kiro as unknown as FakeUpstream,
    },
  ]

  const run = async (c: Case, prompt: string, mcpEcho = false): Promise<CodexRun> => {
    // A serve that died in an earlier test would only make Codex wait out its timeout here.
    expect(serveExit, `serve has exited:\n${serve.output()}`).toBeUndefined()
    const result = await runCodex(
      bin,
      join(dir, `run-${runs++}`),
      {baseUrl: `${serve.url}/${c.type}/v1`, model: c.model, mcpEcho},
      prompt,
      KEY,
    )
    const context = `codex exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nserve:\n${serve.output()}`
    expect(result.code, context).toBe(0)
    return result
  }

  const generations = (fake: FakeUpstream): RecordedRequest[] => fake.requests.filter((r) => r.route !== 'models')

  for (const c of cases) {
    it(`${c.type}: completes a turn`, async () => {
      const fake = c.fake()
      fake.reset()
      fake.script.fallback = {kind: 'reply', reply: {text: `Hello from ${c.type}.`}}
      const result = await run(c, 'Say hello.')
      expect(result.stdout.trim()).toBe(`Hello from ${c.type}.`)
      const [request, ...more] = generations(fake)
      expect(more).toEqual([])
      expect(request?.outcome).toBe('completed')
      expect(JSON.stringify(request?.body)).toContain('Say hello.')
    })

    it(`${c.type}: runs the shell tool the upstream calls and sends its output back under the same call id`, async () => {
      const fake = c.fake()
      fake.reset()
      const marker = `marker-${c.type}-${Date.now()}`
      const cmd = `printf '%s' ${marker} > marker.txt && echo ran-${marker}`
      fake.script.handler = toolRoundTrip({id: c.callId, name: 'exec_command', arguments: {cmd}}, (results) => ({
        text: `Final answer after ${results.length} tool result.`,
      }))
      const result = await run(c, 'Write the marker file.')
      expect(await readFile(join(result.cwd, 'marker.txt'), 'utf8')).toBe(marker)
      expect(result.stdout.trim()).toBe('Final answer after 1 tool result.')
      const [first, second, ...more] = generations(fake)
      expect(more).toEqual([])
      expect(upstreamView(fake.protocol, first?.body).results).toEqual([])
      const view = upstreamView(fake.protocol, second?.body)
      expect(view.calls).toEqual([{id: c.callId, name: 'exec_command', arguments: {cmd}}])
      const results = view.results
      expect(results).toHaveLength(1)
      expect(results[0]?.id).toBe(c.callId)
      expect(results[0]?.text).toContain(`ran-${marker}`)
    })

    // Codex defers MCP tools for models it knows can search (gpt-5.5): the model finds them with Codex's own
    // tool_search, then calls one by its flat name. For other models Codex offers the MCP tools up front.
    it.each([
      {model: 'gpt-5.5', deferred: true},
      ...(c.model === 'gpt-5.5' ? [] : [{model: c.model, deferred: false}]),
    ])(`${c.type} as $model: runs the MCP tool the upstream calls (deferred: $deferred)`, async ({model, deferred}) => {
      const fake = c.fake()
      fake.reset()
      const searchId = `${c.callId}_search`
      const addId = `${c.callId}_add`
      const done = new Set<string>()
      fake.script.handler = (_req, _n, conversation) => {
        const offered = new Set(conversation.tools.map((tool) => tool.name))
        const step = offered.has('mcp__echo__add') ? 'add' : offered.has('tool_search') ? 'search' : 'answer'
        if (done.has(step) || step === 'answer') return {kind: 'reply', reply: {text: 'The sum is in.'}}
        done.add(step)
        const call =
          step === 'add'
            ? {id: addId, name: 'mcp__echo__add', arguments: {a: 40000, b: 2711}}
            : {id: searchId, name: 'tool_search', arguments: {query: 'echo add'}}
        return {kind: 'reply', reply: {toolCalls: [call]}}
      }
      const result = await run({...c, model}, 'Add 40000 and 2711 with the echo tools.', true)
      expect(result.stdout.trim()).toBe('The sum is in.')
      const views = generations(fake).map((r) => upstreamView(fake.protocol, r.body))
      expect(views[0]?.tools.includes('tool_search')).toBe(deferred)
      expect(views[0]?.tools.includes('mcp__echo__add')).toBe(!deferred)
      if (deferred) {
        // Codex ran the search: the tools it found are offered, and the result names them.
        expect(views[1]?.tools).toEqual(expect.arrayContaining(['mcp__echo__add', 'mcp__echo__echo']))
        expect(views[1]?.results).toMatchObject([{id: searchId, text: expect.stringContaining('mcp__echo__add')}])
      }
      // Codex ran the MCP tool: its sum comes back under the call's id.
      const last = views.at(-1)
      expect(views).toHaveLength(deferred ? 3 : 2)
      expect(last?.calls.map((call) => [call.id, call.name])).toEqual([
        ...(deferred ? [[searchId, 'tool_search']] : []),
        [addId, 'mcp__echo__add'],
      ])
      expect(last?.results.at(-1)).toMatchObject({id: addId, text: expect.stringContaining('42711')})
    })
  }
})
