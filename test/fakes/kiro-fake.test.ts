// The Kiro fake against the Kiro codec: request bodies from encodeKiroRequest, answers read back through
// createKiroStreamDecoder over real sockets.
import {Agent, request} from 'undici'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {createKiroStreamDecoder, encodeKiroRequest, type KiroRequest} from '../../src/core/codecs/kiro/index.js'
import {encodeFrame} from './kiro-frames.js'
import type {IRMessage, IRStreamEvent, IRText, IRTool} from '../../src/core/codecs/ir.js'
import {startKiroFake, splitWrites, type KiroFakeOptions, type KiroFakeUpstream} from './kiro-fake.js'

const agent = new Agent({keepAliveTimeout: 10, keepAliveMaxTimeout: 10})
afterAll(() => agent.close())

const MODEL_ID = 'claude-sonnet-4.6'
const text = (value: string): IRText => ({type: 'text', text: value})
const user = (value: string): IRMessage => ({role: 'user', content: [text(value)]})

function kiroRequest(messages: IRMessage[], tools: IRTool[] = [], modelId = MODEL_ID): KiroRequest {
  const ir = {model: 'claude-sonnet-4-6', system: [], messages, tools, stop: [], stream: true, includeUsage: true}
  return encodeKiroRequest(ir, {conversationId: 'conv-1', modelId})
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  chunks: Uint8Array[]
  error?: Error
  json?: any
}

async function post(
  fake: KiroFakeUpstream,
  body: unknown,
  init: {path?: string; token?: string | null; headers?: Record<string, string>; signal?: AbortSignal} = {},
): Promise<Answer> {
  const token = init.token === undefined ? 'tok-1' : init.token
  const auth = token === null ? {} : {authorization: `Bearer ${token}`}
  const res = await request(`${fake.url}${init.path ?? '/generateAssistantResponse'}`, {
    dispatcher: agent,
    method: 'POST',
    headers: {'content-type': 'application/json', ...auth, ...init.headers},
    body: JSON.stringify(body),
    signal: init.signal,
  })
  const chunks: Uint8Array[] = []
  let error: Error | undefined
  try {
    for await (const chunk of res.body) chunks.push(chunk as Uint8Array)
  } catch (err) {
    error = err as Error
  }
  const answer: Answer = {status: res.statusCode, headers: res.headers, chunks, error}
  if (String(res.headers['content-type']).startsWith('application/json')) {
    answer.json = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  }
  return answer
}

function decode(answer: Answer, toolNameMap?: Record<string, string>): IRStreamEvent[] {
  const decoder = createKiroStreamDecoder({model: 'claude-sonnet-4-6', toolNameMap})
  return [...answer.chunks.flatMap((chunk) => decoder.push(chunk)), ...decoder.end()]
}

const textOf = (events: IRStreamEvent[], type: 'text_delta' | 'thinking_delta' = 'text_delta'): string =>
  events.map((e) => (e.type === type ? e.text : '')).join('')

describe('kiro fake: routes, auth and validation', () => {
  let fake: KiroFakeUpstream
  beforeAll(async () => {
    fake = await startKiroFake({tokens: ['tok-1'], models: [MODEL_ID, 'claude-haiku-4.5']})
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it('answers the REST path with event-stream frames that echo the last user text', async () => {
    const answer = await post(fake, kiroRequest([user('héllo 🌍 你好')]).body)
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/vnd.amazon.eventstream')
    const events = decode(answer)
    expect(textOf(events)).toBe('kiro-fake: héllo 🌍 你好')
    expect(events.at(-1)).toMatchObject({type: 'message_end', stopReason: 'end_turn'})
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/generateAssistantResponse',
      route: 'generateAssistantResponse',
      key: 'tok-1',
      model: MODEL_ID,
      stream: true,
      outcome: 'completed',
    })
    expect(fake.requests[0]?.body.conversationState.conversationId).toBe('conv-1')
    expect(fake.completed).toBe(1)
  })

  it('answers getUsageLimits with the allowance, and refuses the call without its query or token', async () => {
    const usage = (query: string, token = 'tok-1') =>
      request(`${fake.url}/getUsageLimits${query}`, {dispatcher: agent, headers: {authorization: `Bearer ${token}`}})
    const answer = await usage('?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST')
    expect(answer.statusCode).toBe(200)
    const body = (await answer.body.json()) as {usageBreakdownList: Array<Record<string, unknown>>}
    expect(body).toMatchObject({subscriptionInfo: {subscriptionTitle: 'KIRO FREE'}, nextDateReset: expect.any(Number)})
    expect(body.usageBreakdownList[0]).toMatchObject({resourceType: 'AGENTIC_REQUEST', currentUsage: 3, usageLimit: 50})
    const bare = await usage('')
    expect(bare.statusCode).toBe(400)
    await bare.body.dump()
    const stranger = await usage('?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST', 'tok-2')
    expect(stranger.statusCode).toBe(403)
    await stranger.body.dump()
    expect(fake.calls('getUsageLimits')).toHaveLength(3)
  })

  it('answers the JSON-RPC style on / with x-amz-target', async () => {
    const body = kiroRequest([user('rpc')]).body
    const headers = {
      'x-amz-target': 'AmazonCodeWhispererStreamingService.GenerateAssistantResponse',
      'content-type': 'application/x-amz-json-1.0',
    }
    expect(textOf(decode(await post(fake, body, {path: '/', headers})))).toBe('kiro-fake: rpc')
    const wrongTarget = await post(fake, body, {path: '/', headers: {'x-amz-target': 'Other.Op'}})
    expect(wrongTarget.status).toBe(404)
  })

  it('refuses a missing or unknown bearer token with 403, or 401 when configured', async () => {
    const body = kiroRequest([user('hi')]).body
    const invalid = {message: 'The bearer token included in the request is invalid.', reason: null}
    for (const token of [null, 'tok-bad']) {
      const answer = await post(fake, body, {token})
      expect(answer.status).toBe(403)
      expect(answer.json).toEqual(invalid)
      expect(answer.headers['x-amzn-errortype']).toBe('AccessDeniedException')
    }
    const strict = await startKiroFake({tokens: ['tok-1'], authStatus: 401})
    try {
      const answer = await post(strict, body, {token: 'tok-bad'})
      expect(answer.status).toBe(401)
      expect(answer.json).toEqual(invalid)
    } finally {
      await strict.close()
    }
  })

  it('rejects a body that breaks a §7.2 rule as "Improperly formed request."', async () => {
    const reply: IRMessage = {role: 'assistant', content: [{type: 'text', text: 'b'}]}
    const good: any = kiroRequest([user('a'), reply, user('c')]).body
    const cases: [string, (body: any) => void, RegExp][] = [
      ['a history ending with a user message', (b) => b.conversationState.history.pop(), /does not end with an assist/],
      ['empty content', (b) => (b.conversationState.currentMessage.userInputMessage.content = ''), /content is empty/],
      ['a null value', (b) => (b.profileArn = null), /is null/],
      ['an empty array', (b) => (b.conversationState.history = []), /empty array/],
      [
        'tool results without tools',
        (b) => {
          b.conversationState.currentMessage.userInputMessage.userInputMessageContext = {
            toolResults: [{toolUseId: 't1', content: [{text: 'x'}], status: 'success'}],
          }
        },
        /without tools/,
      ],
    ]
    for (const [what, mutate, problem] of cases) {
      const body = structuredClone(good)
      mutate(body)
      const answer = await post(fake, body)
      expect(answer.status, what).toBe(400)
      expect(answer.json, what).toEqual({message: 'Improperly formed request.', reason: null})
      expect(answer.headers['x-fake-problem'], what).toMatch(problem)
    }
    expect((await post(fake, good)).status).toBe(200)
  })

  it('answers an unknown model id with INVALID_MODEL_ID', async () => {
    const answer = await post(fake, kiroRequest([user('hi')], [], 'claude-opus-4.1').body)
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({
      message: 'Invalid model ID. Please select a different model to continue.',
      reason: 'INVALID_MODEL_ID',
    })
  })
})

describe('kiro fake: replies', () => {
  const started: KiroFakeUpstream[] = []
  async function fakeWith(opts: KiroFakeOptions): Promise<KiroFakeUpstream> {
    const fake = await startKiroFake(opts)
    started.push(fake)
    return fake
  }
  afterAll(() => Promise.all(started.map((fake) => fake.close())))

  it('cuts writes at any byte, inside multi-byte characters too, and the decoder puts them together', async () => {
    const payload = {content: '东京🌍é'.repeat(20)}
    const frames = [encodeFrame({messageType: 'event', eventType: 'assistantResponseEvent', payload})]
    const writes = splitWrites(frames, {seed: 7, max: 5})
    const joined = Buffer.concat(writes)
    expect(joined.equals(Buffer.from(frames[0] ?? []))).toBe(true)
    // The payload sits between the 104 bytes of prelude and headers and the 4-byte message CRC.
    let offset = 0
    const insideCharacter = writes.slice(0, -1).some((write) => {
      offset += write.length
      const inPayload = offset > 104 && offset < joined.length - 4
      return inPayload && ((joined[offset] ?? 0) & 0xc0) === 0x80
    })
    expect(insideCharacter).toBe(true)

    // Paced, so that the client sees the writes as separate reads
    const fake = await fakeWith({splitBytes: {seed: 7, max: 64}, paceMs: 2})
    const sample = '东京 🌍 naïve café, 你好'.repeat(5)
    fake.enqueue({kind: 'reply', reply: {text: sample, chunkSize: 3}})
    const answer = await post(fake, kiroRequest([user('x')]).body)
    expect(answer.chunks.length).toBeGreaterThan(1)
    expect(textOf(decode(answer))).toBe(sample)
  })

  it('splits at fixed sizes byte by byte', async () => {
    const fake = await fakeWith({splitBytes: 1, paceMs: 0})
    const answer = await post(fake, kiroRequest([user('byte 🌍 by byte')]).body)
    expect(textOf(decode(answer))).toBe('kiro-fake: byte 🌍 by byte')
  })

  it('calls the first offered tool, under the name the client knows, and echoes tool results', async () => {
    const fake = await fakeWith({callToolsWhenOffered: true, splitBytes: [7, 13]})
    const longName = `mcp__files__${'read_a_file_with_a_descriptive_name_'.repeat(2)}`
    const parameters = {type: 'object', properties: {path: {type: 'string'}}, required: ['path']}
    const tools: IRTool[] = [{name: longName, description: 'Read', parameters}]
    const first = kiroRequest([user('read it')], tools)
    const events = decode(await post(fake, first.body), first.toolNameMap)
    const call = events.find((e) => e.type === 'block_start')
    expect(call).toMatchObject({kind: 'tool_call', name: longName, id: 'tooluse_fake0000_0'})
    const json = events.map((e) => (e.type === 'tool_input_delta' ? e.json : '')).join('')
    expect(json).toBe('{"path":"fake-path"}')
    expect(events.at(-1)).toMatchObject({type: 'message_end', stopReason: 'tool_use'})

    const id = 'tooluse_fake0000_0'
    const second = kiroRequest(
      [
        user('read it'),
        {role: 'assistant', content: [{type: 'tool_call', id, name: longName, input: {}}]},
        {role: 'user', content: [{type: 'tool_result', toolCallId: id, content: [text('file body')], isError: false}]},
      ],
      tools,
    )
    expect(textOf(decode(await post(fake, second.body)))).toBe('kiro-fake: tool result: file body')
  })

  it('sends thinking as <thinking> text or as signed reasoning events, and exact usage with metadata', async () => {
    const thinking = {text: 'Let me see.', signature: 'sig-9'}
    const reply = {text: 'Answer.', thinking, usage: {input: 40, output: 9, cached: 4}}
    const tags = await fakeWith({metadata: true})
    tags.enqueue({kind: 'reply', reply})
    const fromTags = decode(await post(tags, kiroRequest([user('q')]).body))
    expect(textOf(fromTags, 'thinking_delta')).toBe('Let me see.')
    expect(textOf(fromTags)).toBe('Answer.')
    expect(fromTags.at(-1)).toEqual({
      type: 'message_end',
      stopReason: 'end_turn',
      usage: {inputTokens: 40, outputTokens: 9, cachedInputTokens: 4, cacheCreationInputTokens: 0},
    })

    const events = await fakeWith({thinkingAs: 'events'})
    events.enqueue({kind: 'reply', reply})
    const fromEvents = decode(await post(events, kiroRequest([user('q')]).body))
    expect(fromEvents).toContainEqual({type: 'signature_delta', index: 0, signature: 'sig-9'})
    expect(textOf(fromEvents)).toBe('Answer.')
  })

  it('repeats content events when asked to, and the decoder drops the copies', async () => {
    const fake = await fakeWith({duplicateContent: true})
    fake.enqueue({kind: 'reply', reply: {text: 'hahaha ha', chunkSize: 2}})
    const answer = await post(fake, kiroRequest([user('x')]).body)
    expect(textOf(decode(answer))).toBe('hahaha ha')
  })

  it('passes [Called …] text through for the decoder to turn into a call', async () => {
    const fake = await fakeWith({})
    fake.enqueue({kind: 'reply', reply: {text: 'Ok. [Called get_time with args: {"zone": "UTC"}]', chunkSize: 5}})
    const events = decode(await post(fake, kiroRequest([user('x')]).body))
    expect(events.find((e) => e.type === 'block_start' && e.kind === 'tool_call')).toMatchObject({name: 'get_time'})
    expect(textOf(events)).toBe('Ok. ')
  })
})

describe('kiro fake: behaviours', () => {
  let fake: KiroFakeUpstream
  const body = kiroRequest([user('hello')]).body
  beforeAll(async () => {
    fake = await startKiroFake({splitBytes: [11, 5, 29]})
  })
  afterEach(() => fake.reset())
  afterAll(() => fake.close())

  it.each([
    [400, 'ValidationException', {message: 'Improperly formed request.', reason: null}],
    [401, 'UnauthorizedException', {message: 'The bearer token included in the request is invalid.', reason: null}],
    [
      402,
      'ServiceQuotaExceededException',
      {message: 'You have reached the limit for this month.', reason: 'MONTHLY_REQUEST_COUNT'},
    ],
    [
      403,
      'AccessDeniedException',
      {message: 'Your User ID temporarily is suspended.', reason: 'TEMPORARILY_SUSPENDED'},
    ],
    [429, 'ThrottlingException', {message: 'Too many requests, please wait before trying again.', reason: null}],
    [
      500,
      'InternalServerException',
      {message: 'Encountered an unexpected error when processing the request, please try again.', reason: null},
    ],
  ])('answers status %i with a Kiro body', async (status, type, json) => {
    fake.enqueue({kind: 'status', status, retryAfter: status === 429 ? 3 : undefined})
    const answer = await post(fake, body)
    expect(answer.status).toBe(status)
    expect(answer.json).toEqual(json)
    expect(answer.headers['x-amzn-errortype']).toBe(type)
    if (status === 429) expect(answer.headers['retry-after']).toBe('3')
    expect(fake.requests[0]?.outcome).toBe('error')
  })

  it('sends an exception frame mid-stream', async () => {
    fake.enqueue({kind: 'stream-error', afterEvents: 2, status: 429, reply: {text: 'abcdefgh', chunkSize: 2}})
    const events = decode(await post(fake, body))
    expect(textOf(events)).toBe('abcd')
    expect(events.at(-1)).toEqual({
      type: 'error',
      status: 429,
      kind: 'rate_limit',
      message: 'Kiro throttlingException: Too many requests, please wait before trying again.',
    })
  })

  it.each(['prelude-crc', 'headers', 'payload', 'message-crc'] as const)('damages the %s of a frame', async (part) => {
    fake.enqueue({kind: 'corrupt', afterFrames: 1, part, reply: {text: 'abcdefgh', chunkSize: 2}})
    const events = decode(await post(fake, body))
    expect(textOf(events)).toBe('ab')
    const message = expect.stringMatching(/^Kiro event stream is damaged: The (prelude|message) checksum/)
    expect(events.at(-1)).toMatchObject({type: 'error', status: 502, message})
  })

  it('cuts the stream inside a frame and drops the connection', async () => {
    fake.enqueue({kind: 'truncate', afterFrames: 1, reply: {text: 'abcdefgh', chunkSize: 2}})
    const answer = await post(fake, body)
    expect(answer.error).toBeDefined()
    const events = decode(answer)
    expect(textOf(events)).toBe('ab')
    const message = expect.stringMatching(/ended inside a frame/)
    expect(events.at(-1)).toMatchObject({type: 'error', status: 502, message})
    expect(fake.requests[0]?.outcome).toBe('destroyed')
  })

  it('drops the connection on a frame boundary (cut), which only the transport can notice', async () => {
    fake.enqueue({kind: 'cut', afterEvents: 2, reply: {text: 'abcdefgh', chunkSize: 2}})
    const answer = await post(fake, body)
    expect(answer.error).toBeDefined()
    expect(textOf(decode(answer))).toBe('abcd')
  })

  it('hangs until the client gives up, and counts the abort', async () => {
    fake.enqueue({kind: 'hang'})
    await expect(post(fake, body, {signal: AbortSignal.timeout(100)})).rejects.toThrow()
    await fake.waitFor(() => fake.aborted === 1)
    expect(fake.requests[0]?.outcome).toBe('aborted')
  })

  it('resets the connection, delays, and sends raw bytes', async () => {
    fake.enqueue({kind: 'destroy'})
    await expect(post(fake, body)).rejects.toThrow()
    const html = {'content-type': 'text/html'}
    const page = {kind: 'raw' as const, status: 502, headers: html, body: '<html>bad gateway</html>'}
    fake.enqueue({kind: 'delay', ms: 30, then: page})
    const startedAt = Date.now()
    const answer = await post(fake, body)
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(25)
    expect(answer.status).toBe(502)
    expect(Buffer.concat(answer.chunks).toString()).toBe('<html>bad gateway</html>')
    expect(fake.count).toBe(2)
  })

  it('takes a handler and a fallback from the script', async () => {
    const scripted = await startKiroFake({
      script: {
        handler: (_req, n) => (n === 0 ? {kind: 'status', status: 500} : undefined),
        fallback: {kind: 'reply', reply: {text: 'fallback'}},
      },
    })
    try {
      expect((await post(scripted, body)).status).toBe(500)
      expect(textOf(decode(await post(scripted, body)))).toBe('fallback')
      expect(scripted.calls('generateAssistantResponse').map((r) => r.behaviour?.kind)).toEqual(['status', 'reply'])
    } finally {
      await scripted.close()
    }
  })
})
