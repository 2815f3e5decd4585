// Token usage on every served request's record: each fake upstream reports its own counts (cache reads and writes
// and reasoning where its vendor has them), and every client protocol, streamed or not, must find them on the record
// exactly, split the same way whatever the vendor: input without the cached part, output with the reasoning in it.
import {readFile} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import WebSocket from 'ws'
import {codecs} from '../../src/core/codecs/index.js'
import {CHARS_PER_TOKEN, estimateInputTokens} from '../../src/core/proxy/estimate.js'
import type {RequestRecord} from '../../src/core/proxy/types.js'
import {historyFileOf} from '../../src/core/usage/history-file.js'
import type {TokenUsage} from '../../src/core/usage/tokens.js'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream, type UsageSpec} from '../fakes/index.js'
import {startEveryPoolType, type EveryPoolType} from '../helpers/every-pool-type.js'
import {startOAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {
  claudeInstance,
  openaiInstance,
  post,
  startTestProxy,
  useProxyHarness,
  waitFor,
  type TestProxy,
} from '../helpers/proxy.js'

type UpstreamType =
  | 'openai-custom'
  | 'openai-qwen-oauth'
  | 'openaiResponses-custom'
  | 'claude-custom'
  | 'gemini-cli-oauth'
  | 'claude-kiro-oauth'
type Client = 'openai' | 'responses' | 'anthropic' | 'gemini'

/** Distinct counts per upstream, so that a record cannot get another's right by accident. */
const REPORTED: Record<UpstreamType, UsageSpec> = {
  'openai-custom': {input: 1000, output: 200, cached: 300, reasoning: 50},
  'openai-qwen-oauth': {input: 1100, output: 210, cached: 310, reasoning: 60},
  'openaiResponses-custom': {input: 1200, output: 220, cached: 320, cacheWrite: 40, reasoning: 70},
  'claude-custom': {input: 1300, output: 230, cached: 330, cacheWrite: 50},
  'gemini-cli-oauth': {input: 1400, output: 240, cached: 340, reasoning: 80},
  'claude-kiro-oauth': {input: 1500, output: 250, cached: 350, cacheWrite: 60},
}

const MODEL: Record<UpstreamType, string> = {
  'openai-custom': 'gpt-4o-mini',
  'openai-qwen-oauth': 'qwen3-coder-plus',
  'openaiResponses-custom': 'gpt-4o-mini',
  'claude-custom': 'claude-sonnet-4-5',
  'gemini-cli-oauth': 'gemini-2.5-flash',
  'claude-kiro-oauth': 'claude-sonnet-4-5',
}

function expected(spec: UsageSpec): TokenUsage {
  const cacheRead = spec.cached ?? 0
  const cacheWrite = spec.cacheWrite ?? 0
  return {
    input: spec.input! - cacheRead - cacheWrite,
    output: spec.output!,
    cacheRead,
    cacheWrite,
    reasoning: spec.reasoning ?? 0,
    estimated: false,
  }
}

const TEXT = 'Counted, every token of it.'

/** The request of a client protocol, its path under a type prefix, and whether it streams. */
function clientRequest(client: Client, type: UpstreamType, stream: boolean): {path: string; body: unknown} {
  const model = MODEL[type]
  switch (client) {
    case 'openai':
      return {path: `/${type}/v1/chat/completions`, body: {model, messages: [{role: 'user', content: 'Hi'}], stream}}
    case 'responses':
      return {path: `/${type}/v1/responses`, body: {model, input: 'Hi', stream, store: false}}
    case 'anthropic':
      return {
        path: `/${type}/v1/messages`,
        body: {model, max_tokens: 100, messages: [{role: 'user', content: 'Hi'}], stream},
      }
    case 'gemini':
      return {
        path: `/${type}/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        body: {contents: [{role: 'user', parts: [{text: 'Hi'}]}]},
      }
  }
}

async function served(proxy: TestProxy, path: string, body: unknown): Promise<{text: string; record: RequestRecord}> {
  const before = proxy.records.length
  const answer = await post(`${proxy.url}${path}`, body)
  expect(answer.status, answer.text).toBe(200)
  await waitFor(() => proxy.records.length > before)
  return {text: answer.text, record: proxy.records.at(-1)!}
}

const TYPES = Object.keys(REPORTED) as UpstreamType[]
const CLIENTS: Client[] = ['openai', 'responses', 'anthropic', 'gemini']
const ROWS = CLIENTS.flatMap((client) =>
  TYPES.flatMap((type) => [false, true].map((stream) => ({client, type, stream}))),
)

describe('usage reported by every upstream type, on the record of every client protocol', () => {
  let every: EveryPoolType
  let fakes: Record<UpstreamType, FakeUpstream>

  beforeAll(async () => {
    // Kiro sends its exact counts in a metadataEvent only sometimes; this one does.
    every = await startEveryPoolType(undefined, {kiro: {metadata: true}})
    fakes = {
      'openai-custom': every.openai,
      'openai-qwen-oauth': every.oauth.portal,
      'openaiResponses-custom': every.responses,
      'claude-custom': every.anthropic,
      'gemini-cli-oauth': every.oauth.codeAssist,
      'claude-kiro-oauth': every.oauth.kiro as unknown as FakeUpstream,
    }
  })
  afterAll(() => every?.close())

  it.each(ROWS)('$client client, $type, stream $stream', async ({client, type, stream}) => {
    fakes[type].enqueue({kind: 'reply', reply: {text: TEXT, usage: REPORTED[type]}})
    const {path, body} = clientRequest(client, type, stream)

    const {text, record} = await served(every.proxy, path, body)

    expect(text).toContain('Counted,')
    expect(record).toMatchObject({type, status: 200, stream})
    expect(record.usage).toEqual(expected(REPORTED[type]))
    expect(record.ttftMs).toBeGreaterThanOrEqual(0)
    expect(record.ttftMs).toBeLessThanOrEqual(record.ms)
  })

  it('a Responses turn over the WebSocket carries the usage too', async () => {
    every.responses.enqueue({kind: 'reply', reply: {text: TEXT, usage: REPORTED['openaiResponses-custom']}})
    const before = every.proxy.records.length
    const ws = new WebSocket(`${every.proxy.url.replace(/^http/, 'ws')}/openaiResponses-custom/v1/responses`)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const completed = new Promise<any>((resolve) =>
      ws.on('message', (data) => {
        const event = JSON.parse(String(data))
        if (event.type === 'response.completed') resolve(event)
      }),
    )
    ws.send(JSON.stringify({type: 'response.create', model: 'gpt-4o-mini', input: 'Hi', store: false}))
    await completed
    await waitFor(() => every.proxy.records.length > before)
    ws.close()

    expect(every.proxy.records.at(-1)!.usage).toEqual(expected(REPORTED['openaiResponses-custom']))
  })
})

const h = useProxyHarness({failOnUnhandledRejection: true})

async function openaiProxy(type: 'openai-custom' = 'openai-custom'): Promise<{proxy: TestProxy; fake: FakeUpstream}> {
  const fake = await startOpenAIFake({name: 'usage'})
  h.fakes.push(fake)
  h.proxy = await startTestProxy({[type]: [openaiInstance(fake, 'usage')]})
  return {proxy: h.proxy, fake}
}

/** The JSON of every `data:` line of an SSE answer but `[DONE]`. */
const chunks = (text: string): any[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)))

describe('the usage of OpenAI chat streams', () => {
  const usage = {input: 900, output: 90, cached: 100, reasoning: 9}
  const chat = {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'Hi'}], stream: true}

  it('is asked for even when the client did not, and the usage chunk is kept from that client', async () => {
    const {proxy, fake} = await openaiProxy()
    fake.enqueue({kind: 'reply', reply: {text: TEXT, usage}})

    const {text, record} = await served(proxy, '/v1/chat/completions', chat)

    expect(fake.requests[0]!.body.stream_options).toEqual({include_usage: true})
    // The client's own bytes went on with only the option added.
    expect({...fake.requests[0]!.body, stream_options: undefined}).toEqual({...chat, stream_options: undefined})
    const received = chunks(text)
    expect(received.length).toBeGreaterThan(2)
    expect(received.some((chunk) => chunk.choices.length === 0)).toBe(false)
    expect(received.some((chunk) => chunk.usage)).toBe(false)
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
    expect(record.usage).toEqual(expected(usage))
  })

  it('reaches a client that asked for it, as the upstream sent it', async () => {
    const {proxy, fake} = await openaiProxy()
    fake.enqueue({kind: 'reply', reply: {text: TEXT, usage}})

    const {text, record} = await served(proxy, '/v1/chat/completions', {...chat, stream_options: {include_usage: true}})

    expect(fake.requests[0]!.body.stream_options).toEqual({include_usage: true})
    const last = chunks(text).at(-1)
    expect(last).toMatchObject({choices: [], usage: {prompt_tokens: 900, completion_tokens: 90}})
    expect(record.usage).toEqual(expected(usage))
  })

  it('is asked for over a client that said no, and kept from it', async () => {
    const {proxy, fake} = await openaiProxy()
    fake.enqueue({kind: 'reply', reply: {text: TEXT, usage}})
    const body = {...chat, model: 'openai-custom:gpt-4o-mini', stream_options: {include_usage: false}}

    const {text, record} = await served(proxy, '/v1/chat/completions', body)

    expect(fake.requests[0]!.body).toMatchObject({model: 'gpt-4o-mini', stream_options: {include_usage: true}})
    expect(chunks(text).some((chunk) => chunk.choices.length === 0)).toBe(false)
    expect(record.usage).toEqual(expected(usage))
  })
})

describe('usage the upstream did not report', () => {
  const chat = {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'How many tokens is this question?'}]}
  const estimatedInput = () => estimateInputTokens(codecs.openai.decodeRequest(chat, {model: 'gpt-4o-mini'}))

  it('is estimated for a plain answer, and marked so', async () => {
    const {proxy, fake} = await openaiProxy()
    const answer = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [{index: 0, message: {role: 'assistant', content: TEXT}, finish_reason: 'stop'}],
    }
    fake.enqueue({
      kind: 'raw',
      status: 200,
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(answer),
    })

    const {record} = await served(proxy, '/v1/chat/completions', chat)

    expect(record.usage).toEqual({
      input: estimatedInput(),
      output: Math.ceil(TEXT.length / CHARS_PER_TOKEN),
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      estimated: true,
    })
  })

  /** An OpenAI stream of TEXT in two pieces that says nothing of its usage, as servers that ignore include_usage. */
  const silentStream = (): string => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({id: 'c', object: 'chat.completion.chunk', choices: [{index: 0, delta, finish_reason: finish}]})}\n\n`
    const body = [chunk({role: 'assistant', content: ''}), chunk({content: 'Counted, '})]
    body.push(chunk({content: 'every token of it.'}), chunk({}, 'stop'), 'data: [DONE]\n\n')
    return body.join('')
  }

  it('is estimated for a stream without usage, passed through or converted', async () => {
    const {proxy, fake} = await openaiProxy()
    const anthropic = {model: 'gpt-4o-mini', max_tokens: 100, messages: chat.messages, stream: true}
    const cases = [
      {path: '/v1/chat/completions', body: {...chat, stream: true}, input: estimatedInput()},
      {
        path: '/openai-custom/v1/messages',
        body: anthropic,
        input: estimateInputTokens(codecs.anthropic.decodeRequest(anthropic, {model: 'gpt-4o-mini'})),
      },
    ]
    for (const {path, body, input} of cases) {
      fake.enqueue({kind: 'raw', status: 200, headers: {'content-type': 'text/event-stream'}, body: silentStream()})

      const {text, record} = await served(proxy, path, body)

      expect(text).toContain('every token of it.')
      expect(record.usage).toEqual({
        input,
        output: Math.ceil(TEXT.length / CHARS_PER_TOKEN),
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        estimated: true,
      })
    }
  })

  it('is estimated for a Kiro answer without a metadataEvent, from its context usage', async () => {
    const oauth = await startOAuthUpstreams()
    h.fakes.push(oauth as unknown as FakeUpstream)
    h.proxy = await startTestProxy(oauth.pool())
    oauth.kiro.enqueue({kind: 'reply', reply: {text: TEXT, usage: {input: 2000, output: 7}}})
    const {path, body} = clientRequest('anthropic', 'claude-kiro-oauth', true)

    const {record} = await served(h.proxy, path, body)

    // Kiro said 1.0035 % of a 200k window is used; the input is that less the output, which is estimated.
    const output = Math.ceil(TEXT.length / CHARS_PER_TOKEN)
    expect(record.usage).toEqual({
      input: 2007 - output,
      output,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      estimated: true,
    })
  })
})

describe('what a record tells of the answer', () => {
  const chat = {model: 'gpt-4o-mini', messages: [{role: 'user', content: 'Hi'}]}

  it('times the first byte the client got from the request, after a slow upstream, plain or streamed', async () => {
    const {proxy, fake} = await openaiProxy()
    fake.enqueue({kind: 'delay', ms: 150, then: {kind: 'reply', reply: {text: TEXT}}})
    // Headers at once, the first token later: the client's first byte waits for the token.
    fake.enqueue({kind: 'late-body', ms: 150, reply: {text: TEXT}})

    const plain = (await served(proxy, '/v1/chat/completions', chat)).record
    const streamed = (await served(proxy, '/v1/chat/completions', {...chat, stream: true})).record

    for (const record of [plain, streamed]) {
      expect(record.ttftMs).toBeGreaterThanOrEqual(150)
      expect(record.ttftMs).toBeLessThanOrEqual(record.ms)
    }
  })

  it('counts what a stream broken mid-way had reported, and estimates nothing for it', async () => {
    const fake = await startAnthropicFake({name: 'broken'})
    h.fakes.push(fake)
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'broken')]})
    fake.enqueue({kind: 'stream-error', afterEvents: 3, reply: {text: TEXT, usage: {input: 800, cached: 200}}})

    const {record} = await served(h.proxy, '/claude-custom/v1/chat/completions', {...chat, stream: true})

    expect(record.error).toBeDefined()
    // message_start's counts: the input, and the one output token it always says.
    expect(record.usage).toEqual({input: 600, output: 1, cacheRead: 200, cacheWrite: 0, reasoning: 0, estimated: false})
  })
})

describe('a mixed run of every client protocol × upstream type, streamed and not', () => {
  let every: EveryPoolType | undefined
  afterAll(() => every?.close())

  it('leaves token totals in the pool file, the history and /metrics equal to what the fakes reported', async () => {
    every = await startEveryPoolType(undefined, {kiro: {metadata: true}})
    const fakes: Record<UpstreamType, FakeUpstream> = {
      'openai-custom': every.openai,
      'openai-qwen-oauth': every.oauth.portal,
      'openaiResponses-custom': every.responses,
      'claude-custom': every.anthropic,
      'gemini-cli-oauth': every.oauth.codeAssist,
      'claude-kiro-oauth': every.oauth.kiro as unknown as FakeUpstream,
    }
    for (const {client, type, stream} of ROWS) {
      fakes[type].enqueue({kind: 'reply', reply: {text: TEXT, usage: REPORTED[type]}})
      const {path, body} = clientRequest(client, type, stream)
      await served(every.proxy, path, body)
    }
    const metrics = await fetch(`${every.proxy.url}/metrics`).then((r) => r.text())
    await every.proxy.stop()

    const perType = ROWS.length / TYPES.length
    const pool = await every.proxy.readPool()
    const history = JSON.parse(await readFile(historyFileOf(every.proxy.poolsFile), 'utf8')) as {
      days: Record<string, Record<string, Record<string, Record<string, number>>>>
    }
    for (const type of TYPES) {
      const one = expected(REPORTED[type])
      const want = {
        inputTokens: one.input * perType,
        outputTokens: one.output * perType,
        cacheReadTokens: one.cacheRead * perType,
        cacheWriteTokens: one.cacheWrite * perType,
        reasoningTokens: one.reasoning * perType,
      }
      const [entry] = pool[type]!
      const got = Object.fromEntries(Object.keys(want).map((field) => [field, entry![field] ?? 0]))
      expect(got, type).toEqual(want)
      expect(entry!.estimatedTokens ?? 0).toBe(0)
      // The daily history holds the same sums, under the instance's id, for whatever day it is.
      const id = `${type}/${String(entry!.uuid)}`
      const days = Object.values(history.days).flatMap((day) => (day[id] ? Object.values(day[id]) : []))
      const sum = (field: string) => days.reduce((total, cell) => total + (cell[field] ?? 0), 0)
      expect(Object.fromEntries(Object.keys(want).map((field) => [field, sum(field)])), type).toEqual(want)
      expect(sum('requests')).toBe(perType)
      // /metrics counted the same output tokens for the type.
      const output = [
        ...metrics.matchAll(
          new RegExp(`^aiclient_tokens_total\\{[^}]*type="${type}"[^}]*kind="output"[^}]*\\} (\\d+)$`, 'gm'),
        ),
      ]
      expect(
        output.reduce((total, m) => total + Number(m[1]), 0),
        type,
      ).toBe(want.outputTokens)
    }
  }, 60_000)
})
