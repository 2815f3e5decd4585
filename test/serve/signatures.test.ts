// Thinking signatures across vendors, end to end: a Gemini signature reaches an Anthropic client tagged with its
// origin and goes back to the account that gave it, never to another; an upstream that refuses a signature gets
// the same request once more, on the same instance, without any; any other refusal reaches the client as it is.
import Anthropic from '@anthropic-ai/sdk'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {accountTag} from '../../src/core/codecs/signatures.js'
import {startAnthropicFake, startCodeAssistFake, type FakeUpstream, type RecordedRequest} from '../fakes/index.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

const MODEL = 'gemini-2.5-pro'
const SIGNATURE = 'CiQBjz1rX+gemini/sig=='
const LS = {name: 'ls', description: 'List files', input_schema: {type: 'object' as const, properties: {}}}

let up: OAuthUpstreams
// A second Code Assist account, on a fake of its own so that each account's requests can be told apart.
let other: FakeUpstream

beforeAll(async () => {
  up = await startOAuthUpstreams()
  other = await startCodeAssistFake({
    name: 'gemini-b',
    tokens: up.googleTokens,
    account: {currentTier: 'standard-tier', project: 'fake-project-456'},
  })
})

afterAll(async () => {
  await other?.close()
  await up?.close()
})

const GENERATE = new Set(['generateContent', 'streamGenerateContent'])
const generations = (fake: FakeUpstream): RecordedRequest[] => fake.requests.filter((r) => GENERATE.has(r.route))

/** The model parts of a Code Assist request, with the signature each carries */
function signedParts(req: RecordedRequest): {kind: string; signature: string}[] {
  const contents: any[] = req.body.request.contents
  return contents
    .filter((c) => c.role === 'model')
    .flatMap((c) => c.parts)
    .filter((p: any) => p.thoughtSignature !== undefined)
    .map((p: any) => ({
      kind: p.functionCall ? 'functionCall' : p.thought ? 'thought' : 'text',
      signature: p.thoughtSignature,
    }))
}

function geminiPool(count: 1 | 2): Record<string, unknown> {
  const doc = up.pool()
  const [first] = doc['gemini-cli-oauth'] as Record<string, unknown>[]
  const second = {...first, GEMINI_BASE_URL: other.url, customName: 'gemini-b', uuid: 'g-uuid-0002'}
  return {'gemini-cli-oauth': count === 1 ? [first] : [first, second]}
}

function anthropicClient(): Anthropic {
  return new Anthropic({apiKey: 'x', baseURL: `${h.proxy!.url}/gemini-cli-oauth`, maxRetries: 0})
}

async function ask(client: Anthropic, messages: Anthropic.MessageParam[], stream: boolean): Promise<Anthropic.Message> {
  const params = {model: MODEL, max_tokens: 1000, messages, tools: [LS]}
  return stream ? client.messages.stream(params).finalMessage() : client.messages.create(params)
}

/** The first turn, answered with a signed function call, and the history of the next turn */
async function firstTurn(client: Anthropic, fake: FakeUpstream, stream = false) {
  fake.enqueue({
    kind: 'reply',
    reply: {thinking: {text: 'I should list them.', signature: SIGNATURE}, toolCalls: [{name: 'ls', arguments: {}}]},
  })
  const messages: Anthropic.MessageParam[] = [{role: 'user', content: 'What files are there?'}]
  const answer = await ask(client, messages, stream)
  const use = answer.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!
  messages.push(
    {role: 'assistant', content: answer.content},
    {role: 'user', content: [{type: 'tool_result', tool_use_id: use.id, content: 'a.txt'}]},
  )
  return {answer, messages}
}

const instanceTag = (uuid: string) =>
  accountTag(h.proxy!.state.list('gemini-cli-oauth').find((l) => l.config.uuid === uuid)!.id)

describe('a Gemini signature through an Anthropic client', () => {
  it.each([false, true])(
    'is handed over tagged and goes back raw onto its function call (stream: %s)',
    async (stream) => {
      up.codeAssist.reset()
      h.proxy = await startTestProxy(geminiPool(1))
      const client = anthropicClient()
      const {answer, messages} = await firstTurn(client, up.codeAssist, stream)

      // The signature Gemini put on the call rides a thinking block of its own, just before the call.
      const signed = answer.content.filter((b) => b.type === 'thinking' && b.signature !== '')
      expect(signed).toEqual([
        {type: 'thinking', thinking: '', signature: `aic1.gemini-cli-oauth.${instanceTag('g-uuid-0001')}.${SIGNATURE}`},
      ])
      expect(answer.content[answer.content.indexOf(signed[0]!) + 1]).toMatchObject({type: 'tool_use', name: 'ls'})

      up.codeAssist.enqueue({kind: 'reply', reply: {text: 'There is a.txt.'}})
      const second = await ask(client, messages, stream)
      expect(second.content).toEqual([expect.objectContaining({type: 'text', text: 'There is a.txt.'})])
      const sent = generations(up.codeAssist)[1]!
      expect(signedParts(sent)).toEqual([{kind: 'functionCall', signature: SIGNATURE}])
      expect(sent.rawBody).not.toContain('aic1.')
    },
  )

  it("never reaches another account's upstream, and still reaches its own", async () => {
    up.codeAssist.reset()
    other.reset()
    const dropped: string[] = []
    // Sticky sessions would keep the conversation on one account; round robin moves it, as a failover would.
    h.proxy = await startTestProxy(geminiPool(2), {
      config: {SESSION_AFFINITY: false},
      onDropped: (field) => dropped.push(field),
    })
    const client = anthropicClient()
    const fakes = [up.codeAssist, other]
    // Round robin: the first turn goes to the first account, each next one to the other.
    const {messages} = await firstTurn(client, up.codeAssist)
    expect(generations(up.codeAssist)).toHaveLength(1)

    other.enqueue({kind: 'reply', reply: {text: 'There is a.txt.'}})
    expect((await ask(client, messages, false)).content).toMatchObject([{text: 'There is a.txt.'}])
    const elsewhere = generations(other)
    expect(elsewhere).toHaveLength(1)
    expect(signedParts(elsewhere[0]!)).toEqual([])
    expect(elsewhere[0]!.rawBody).not.toContain(SIGNATURE)
    // The debug log says so.
    expect(dropped).toContain("thinking.signature (another upstream's)")
    dropped.length = 0

    up.codeAssist.enqueue({kind: 'reply', reply: {text: 'Still a.txt.'}})
    await ask(client, messages, false)
    expect(fakes.map((f) => generations(f).length)).toEqual([2, 1])
    expect(dropped).not.toContain("thinking.signature (another upstream's)")
    expect(signedParts(generations(up.codeAssist)[1]!)).toEqual([{kind: 'functionCall', signature: SIGNATURE}])
  })
})

// The vendors' own 400s for a signature they cannot verify.
const GEMINI_REFUSALS = [
  // AI Studio and Code Assist
  'Corrupted thought signature.',
  // Vertex AI
  'Unable to submit request because Thought signature is not valid.. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini',
]
const geminiError = (message: string) => ({error: {code: 400, message, status: 'INVALID_ARGUMENT'}})

describe('an upstream that refuses a signature', () => {
  it.each(GEMINI_REFUSALS)('Gemini: one retry on the same account without it (%s)', async (message) => {
    up.codeAssist.reset()
    other.reset()
    // Round robin moves the conversation between accounts only without sticky sessions.
    h.proxy = await startTestProxy(geminiPool(2), {config: {SESSION_AFFINITY: false}})
    const client = anthropicClient()
    const {messages} = await firstTurn(client, up.codeAssist)
    // The next turn goes to the other account, which gets no signature: the third comes back to the first.
    other.enqueue({kind: 'reply', reply: {text: 'There is a.txt.'}})
    await ask(client, messages, false)

    up.codeAssist.enqueue(
      {kind: 'status', status: 400, body: geminiError(message)},
      {kind: 'reply', reply: {text: 'Still a.txt.'}},
    )
    const answer = await ask(client, messages, false)
    expect(answer.content).toMatchObject([{type: 'text', text: 'Still a.txt.'}])
    const [, refused, retried] = generations(up.codeAssist)
    expect(generations(up.codeAssist)).toHaveLength(3)
    expect(generations(other)).toHaveLength(1)
    expect(signedParts(refused!)).toEqual([{kind: 'functionCall', signature: SIGNATURE}])
    expect(signedParts(retried!)).toEqual([])
    expect(retried!.rawBody).not.toContain(SIGNATURE)
    // The thinking text stays; only the proof goes.
    expect(retried!.body.request.contents[1].parts).toContainEqual({text: 'I should list them.', thought: true})
  })

  it('Gemini: another 400 is not retried and reaches the Anthropic client in its protocol', async () => {
    up.codeAssist.reset()
    h.proxy = await startTestProxy(geminiPool(1))
    const client = anthropicClient()
    const {messages} = await firstTurn(client, up.codeAssist)
    const message =
      'Unable to submit request because it has a maxOutputTokens value of 200000 but the supported range is from 1 (inclusive) to 65537 (exclusive). Update the value and try again.'
    up.codeAssist.enqueue({kind: 'status', status: 400, body: geminiError(message)})
    const response = await post(`${h.proxy.url}/gemini-cli-oauth/v1/messages`, {
      model: MODEL,
      max_tokens: 200000,
      messages,
      tools: [LS],
    })
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({type: 'error', error: {type: 'invalid_request_error', message}})
    expect(generations(up.codeAssist)).toHaveLength(2)
  })
})

// A Responses client (Codex) carrying Claude's reasoning back to claude-custom.
describe('claude-custom refusing a signature a Responses client carried', () => {
  let anthropic: FakeUpstream

  async function responsesRoundTrip(refusal: {message: string}) {
    anthropic = await startAnthropicFake({name: 'anthropic'})
    h.fakes = [anthropic]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(anthropic, 'anthropic')]})
    const url = `${h.proxy.url}/claude-custom/v1/responses`
    const tools = [{type: 'function', name: 'ls', parameters: {type: 'object', properties: {}}}]
    anthropic.enqueue({
      kind: 'reply',
      reply: {thinking: {text: 'List them.', signature: 'EqQBclaude-sig'}, toolCalls: [{name: 'ls', arguments: {}}]},
    })
    const input: unknown[] = [{role: 'user', content: 'What files are there?'}]
    const first = await post(url, {model: 'claude-sonnet-4-6', input, tools})
    expect(first.status, first.text).toBe(200)
    const output: any[] = first.json().output
    expect(output.find((i) => i.type === 'reasoning').encrypted_content).toMatch(
      /^aic1\.claude-custom\.[A-Za-z0-9_-]{10}\.EqQBclaude-sig$/,
    )
    const call = output.find((i) => i.type === 'function_call')
    input.push(...output, {type: 'function_call_output', call_id: call.call_id, output: 'a.txt'})
    anthropic.enqueue(
      {
        kind: 'status',
        status: 400,
        body: {type: 'error', error: {type: 'invalid_request_error', message: refusal.message}, request_id: 'req_1'},
      },
      {kind: 'reply', reply: {text: 'There is a.txt.'}},
    )
    return post(url, {model: 'claude-sonnet-4-6', input, tools})
  }

  const thinkingBlocks = (req: RecordedRequest) =>
    req.body.messages.flatMap((m: any) =>
      Array.isArray(m.content) ? m.content.filter((b: any) => b.type === 'thinking') : [],
    )

  it('one retry on the same instance without the thinking blocks', async () => {
    const response = await responsesRoundTrip({
      message: 'messages.1.content.0: Invalid `signature` in `thinking` block',
    })
    expect(response.status, response.text).toBe(200)
    expect(response.json().output).toMatchObject([{type: 'message', content: [{text: 'There is a.txt.'}]}])
    const [, refused, retried] = anthropic.calls('messages')
    expect(anthropic.calls('messages')).toHaveLength(3)
    expect(thinkingBlocks(refused!)).toEqual([{type: 'thinking', thinking: 'List them.', signature: 'EqQBclaude-sig'}])
    expect(thinkingBlocks(retried!)).toEqual([])
    expect(retried!.rawBody).not.toContain('EqQBclaude-sig')
  })

  it('another 400 is not retried and reaches the client in its protocol', async () => {
    const message =
      'max_tokens: 200000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-6'
    const response = await responsesRoundTrip({message})
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({error: {message, type: 'invalid_request_error'}})
    expect(anthropic.calls('messages')).toHaveLength(2)
  })
})

// A conversation moved to an upstream of the client's own protocol, whose body otherwise passes through.
describe("another upstream's signatures in a body that passes through", () => {
  it('Anthropic client from gemini-cli-oauth to claude-custom: no tag and no unsigned thinking reach Anthropic', async () => {
    up.codeAssist.reset()
    const anthropic = await startAnthropicFake({name: 'anthropic'})
    h.fakes = [anthropic]
    const dropped: string[] = []
    h.proxy = await startTestProxy(
      {...geminiPool(1), 'claude-custom': [claudeInstance(anthropic, 'anthropic')]},
      {onDropped: (field) => dropped.push(field)},
    )
    const {messages} = await firstTurn(anthropicClient(), up.codeAssist)
    const body = {
      model: 'claude-sonnet-4-6',
      max_tokens: 2000,
      thinking: {type: 'enabled', budget_tokens: 1024},
      messages,
      tools: [LS],
    }
    const response = await post(`${h.proxy.url}/claude-custom/v1/messages`, body)
    expect(response.status, response.text).toBe(200)
    const sent = anthropic.calls('messages')[0]!
    expect(sent.rawBody).not.toContain('aic1.')
    expect(sent.rawBody).not.toContain(SIGNATURE)
    // Neither Gemini's signature holder nor its unsigned thought: Anthropic refuses both.
    expect(sent.body.messages[1].content).toEqual([expect.objectContaining({type: 'tool_use', name: 'ls'})])
    // With the calling turn left without thinking, thinking gives way, as in a conversion.
    expect(sent.body.thinking).toBeUndefined()
    expect(dropped).toEqual(
      expect.arrayContaining([
        "thinking block (another upstream's)",
        'thinking block (unsigned)',
        'thinking (tool loop without thinking blocks)',
      ]),
    )
  })

  it("Anthropic client with claude-custom's own history: the bytes pass unchanged (control)", async () => {
    const anthropic = await startAnthropicFake({name: 'anthropic'})
    h.fakes = [anthropic]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(anthropic, 'anthropic')]})
    const body = JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 2000,
      messages: [
        {role: 'user', content: 'Hi.'},
        {
          role: 'assistant',
          content: [
            {type: 'thinking', thinking: 'Hmm.', signature: 'EqQBown'},
            {type: 'text', text: 'Hello.'},
          ],
        },
        {role: 'user', content: 'More.'},
      ],
    })
    expect((await post(`${h.proxy.url}/claude-custom/v1/messages`, body)).status).toBe(200)
    expect(anthropic.calls('messages')[0]!.rawBody).toBe(body)
  })

  it("Gemini client from claude-custom to gemini-cli-oauth: Claude's signature never reaches Code Assist", async () => {
    up.codeAssist.reset()
    const anthropic = await startAnthropicFake({name: 'anthropic'})
    h.fakes = [anthropic]
    h.proxy = await startTestProxy({...geminiPool(1), 'claude-custom': [claudeInstance(anthropic, 'anthropic')]})
    anthropic.enqueue({kind: 'reply', reply: {thinking: {text: 'Hmm.', signature: 'EqQBclaude'}, text: 'Hello.'}})
    const contents: unknown[] = [{role: 'user', parts: [{text: 'Hi.'}]}]
    const first = await post(`${h.proxy.url}/claude-custom/v1beta/models/claude-sonnet-4-6:generateContent`, {contents})
    expect(first.status, first.text).toBe(200)
    const answer = first.json().candidates[0].content
    expect(JSON.stringify(answer)).toContain('aic1.claude-custom.')
    contents.push(answer, {role: 'user', parts: [{text: 'More.'}]})
    const second = await post(`${h.proxy.url}/gemini-cli-oauth/v1beta/models/${MODEL}:generateContent`, {contents})
    expect(second.status, second.text).toBe(200)
    const sent = generations(up.codeAssist)[0]!
    expect(sent.rawBody).not.toContain('EqQBclaude')
    expect(signedParts(sent)).toEqual([])
    // The thought itself stays.
    expect(sent.body.request.contents[1].parts).toContainEqual({text: 'Hmm.', thought: true})
  })
})

// A refused signature in a body of the upstream's own protocol: an account's own signature sent to another account.
describe('a refused signature in a body that passes through', () => {
  const anthropicBody = {
    model: 'claude-sonnet-4-6',
    max_tokens: 2000,
    thinking: {type: 'enabled', budget_tokens: 1024},
    tools: [LS],
    messages: [
      {role: 'user', content: 'List.'},
      {
        role: 'assistant',
        content: [
          {type: 'thinking', thinking: 'List them.', signature: 'EqQBother-org'},
          {type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}},
        ],
      },
      {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt'}]},
    ],
  }
  const anthropicRefusal = (message: string) => ({
    kind: 'status' as const,
    status: 400,
    body: {type: 'error', error: {type: 'invalid_request_error', message}, request_id: 'req_1'},
  })

  it('Anthropic client to claude-custom: one retry without thinking blocks (and, in a tool loop, thinking)', async () => {
    const anthropic = await startAnthropicFake({name: 'anthropic'})
    h.fakes = [anthropic]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(anthropic, 'anthropic')]})
    anthropic.enqueue(anthropicRefusal('messages.1.content.0: Invalid `signature` in `thinking` block'), {
      kind: 'reply',
      reply: {text: 'There is a.txt.'},
    })
    const response = await post(`${h.proxy.url}/claude-custom/v1/messages`, anthropicBody)
    expect(response.status, response.text).toBe(200)
    const [refused, retried] = anthropic.calls('messages')
    expect(anthropic.calls('messages')).toHaveLength(2)
    expect(refused!.rawBody).toBe(JSON.stringify(anthropicBody))
    expect(retried!.body.messages[1].content).toEqual([{type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}}])
    expect(retried!.body.thinking).toBeUndefined()
  })

  it('Anthropic client to claude-custom: another 400 is not retried (control)', async () => {
    const anthropic = await startAnthropicFake({name: 'anthropic'})
    h.fakes = [anthropic]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(anthropic, 'anthropic')]})
    const message =
      'max_tokens: 200000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-6'
    anthropic.enqueue(anthropicRefusal(message))
    const response = await post(`${h.proxy.url}/claude-custom/v1/messages`, anthropicBody)
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({type: 'error', error: {type: 'invalid_request_error', message}})
    expect(anthropic.calls('messages')).toHaveLength(1)
  })

  it('Gemini client to gemini-cli-oauth: one retry without thought signatures', async () => {
    up.codeAssist.reset()
    h.proxy = await startTestProxy(geminiPool(1))
    const contents = [
      {role: 'user', parts: [{text: 'List.'}]},
      {
        role: 'model',
        parts: [
          {text: 'List them.', thought: true},
          {functionCall: {name: 'ls', args: {}}, thoughtSignature: 'CiQBother-account'},
        ],
      },
      {role: 'user', parts: [{functionResponse: {name: 'ls', response: {output: 'a.txt'}}}]},
    ]
    up.codeAssist.enqueue(
      {kind: 'status', status: 400, body: geminiError('Corrupted thought signature.')},
      {kind: 'reply', reply: {text: 'There is a.txt.'}},
    )
    const response = await post(`${h.proxy.url}/gemini-cli-oauth/v1beta/models/${MODEL}:generateContent`, {contents})
    expect(response.status, response.text).toBe(200)
    const [refused, retried] = generations(up.codeAssist)
    expect(generations(up.codeAssist)).toHaveLength(2)
    expect(signedParts(refused!)).toEqual([{kind: 'functionCall', signature: 'CiQBother-account'}])
    expect(signedParts(retried!)).toEqual([])
    expect(retried!.body.request.contents[1].parts).toEqual([
      {text: 'List them.', thought: true},
      {functionCall: {name: 'ls', args: {}}},
    ])
  })
})
