// Proves the Code Assist fake's scripted behaviours with raw requests, and that `auth login gemini`'s project
// discovery works against it.
import {Agent, request} from 'undici'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {discoverGeminiProject} from '../../src/core/oauth/gemini-project.js'
import {codeAssistFailure, startCodeAssistFake, type CodeAssistFakeOptions} from './code-assist-fake.js'
import type {FakeUpstream} from './fake-server.js'
import {parseSse} from './sse.js'

const agent = new Agent({keepAliveTimeout: 10, keepAliveMaxTimeout: 10})
afterAll(() => agent.close())

const TOKEN = 'ya29.fresh'
const RPC = 'type.googleapis.com/google.rpc.'
const DOMAIN = 'cloudcode-pa.googleapis.com'
const UNKNOWN_NAME = 'Invalid JSON payload received. Unknown name'

interface Reply {
  status: number
  text: string
  json: any // any: tests poke at arbitrary wire JSON
}

async function send(fake: FakeUpstream, path: string, body?: unknown, token: string | null = TOKEN): Promise<Reply> {
  const res = await request(`${fake.url}${path}`, {
    dispatcher: agent,
    method: body === undefined ? 'GET' : 'POST',
    headers: {'content-type': 'application/json', ...(token === null ? {} : {authorization: `Bearer ${token}`})},
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: res.statusCode, text, json}
}

const call = (fake: FakeUpstream, method: string, body: unknown, token?: string | null): Promise<Reply> =>
  send(fake, `/v1internal:${method}`, body, token)

const METADATA = {ideType: 'IDE_UNSPECIFIED', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI'}

function envelope(
  overrides: Record<string, unknown> = {},
  request: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    model: 'gemini-2.5-pro',
    project: 'fake-project-123',
    user_prompt_id: 'prompt-1',
    request: {contents: [{role: 'user', parts: [{text: 'hello 🌍'}]}], session_id: 'session-1', ...request},
    ...overrides,
  }
}

function discover(fake: FakeUpstream, waits: number[] = []) {
  const sleep = async (ms: number): Promise<void> => void waits.push(ms)
  return discoverGeminiProject({baseUrl: fake.url, accessToken: TOKEN, sleep, dispatcher: agent})
}

describe('code assist fake: project discovery', () => {
  const fakes: FakeUpstream[] = []
  const start = async (opts: CodeAssistFakeOptions = {}): Promise<FakeUpstream> => {
    const fake = await startCodeAssistFake(opts)
    fakes.push(fake)
    return fake
  }
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()))
  })

  it("answers retrieveUserQuota with gemini-cli's buckets, for the account's own project only", async () => {
    const buckets = [{remainingAmount: '12', remainingFraction: 0.012, resetTime: '2026-12-05T00:00:00Z', modelId: 'm'}]
    const fake = await start({account: {project: 'p-1'}, quotaBuckets: buckets})
    const quota = await call(fake, 'retrieveUserQuota', {project: 'p-1'})
    expect(quota).toMatchObject({status: 200, json: {buckets}})
    expect((await call(fake, 'retrieveUserQuota', {project: 'someone-else'})).status).toBe(403)
    expect((await call(fake, 'retrieveUserQuota', {project: 'p-1'}, 'ya29.stale')).status).toBe(200)
    const guarded = await start({account: {project: 'p-1'}, tokens: new Set([TOKEN])})
    expect((await call(guarded, 'retrieveUserQuota', {project: 'p-1'}, 'ya29.stale')).status).toBe(401)
  })

  it('describes an onboarded account, whose project discovery takes', async () => {
    const fake = await start()
    const load = await call(fake, 'loadCodeAssist', {metadata: METADATA})
    expect(load.status).toBe(200)
    expect(load.json).toEqual({
      currentTier: {id: 'standard-tier', name: 'Gemini Code Assist Standard', hasOnboardedPreviously: true},
      allowedTiers: [{id: 'standard-tier', name: 'Gemini Code Assist Standard', isDefault: true}],
      cloudaicompanionProject: 'fake-project-123',
    })
    expect(await discover(fake)).toEqual({projectId: 'fake-project-123', tier: 'standard-tier'})
    expect(fake.calls('onboardUser')).toHaveLength(0)
  })

  it('onboards through an operation polled with GET, as gemini-cli does', async () => {
    const fake = await start({account: {currentTier: null, project: 'managed-7', onboardingPolls: 2}})
    expect((await call(fake, 'loadCodeAssist', {metadata: METADATA})).json).toEqual({
      allowedTiers: [{id: 'free-tier', name: 'Gemini Code Assist for individuals', isDefault: true}],
    })
    const waits: number[] = []
    expect(await discover(fake, waits)).toEqual({projectId: 'managed-7', tier: 'free-tier'})
    expect(waits).toEqual([5000, 5000])
    const [first, ...polls] = fake.requests.filter((r) => r.route === 'onboardUser' || r.route === 'operation')
    expect(first?.body).toEqual({tierId: 'free-tier', metadata: METADATA})
    expect(polls.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1internal/operations/onboard-fake0002',
      'GET /v1internal/operations/onboard-fake0002',
    ])
    // Onboarded now: loadCodeAssist names the tier and the project, and generation is allowed
    expect((await call(fake, 'loadCodeAssist', {metadata: METADATA})).json).toMatchObject({
      currentTier: {id: 'free-tier'},
      cloudaicompanionProject: 'managed-7',
    })
    expect((await call(fake, 'generateContent', envelope({project: 'managed-7'}))).status).toBe(200)

    fake.reset()
    expect((await call(fake, 'loadCodeAssist', {metadata: METADATA})).json).not.toHaveProperty('currentTier')
    expect((await call(fake, 'generateContent', envelope({project: 'managed-7'}))).status).toBe(403)
  })

  it('answers each re-posted onboardUser with the same operation, closer to done', async () => {
    const fake = await start({account: {currentTier: null, onboardingPolls: 2}})
    const posts = []
    for (let i = 0; i < 3; i++)
      posts.push((await call(fake, 'onboardUser', {tierId: 'free-tier', metadata: METADATA})).json)
    expect(posts).toEqual([
      {name: 'operations/onboard-fake0000', done: false},
      {name: 'operations/onboard-fake0000', done: false},
      {
        name: 'operations/onboard-fake0000',
        done: true,
        response: {
          '@type': 'type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse',
          cloudaicompanionProject: {id: 'fake-project-123', name: 'fake-project-123'},
        },
      },
    ])
  })

  it('gives no operation name in the repost style, so discovery posts again every 2 s', async () => {
    const fake = await start({account: {currentTier: null, onboardingStyle: 'repost'}})
    const waits: number[] = []
    expect(await discover(fake, waits)).toEqual({projectId: 'fake-project-123', tier: 'free-tier'})
    expect(waits).toEqual([2000])
    expect(fake.calls('onboardUser').map((r) => r.body.tierId)).toEqual(['free-tier', 'free-tier'])
    expect(fake.calls('operation')).toHaveLength(0)
  })

  it('onboards a user-defined tier into the project the client names', async () => {
    const fake = await start({
      account: {
        currentTier: null,
        allowedTiers: [{id: 'standard-tier', isDefault: true, userDefinedCloudaicompanionProject: true}],
        onboardingPolls: 0,
      },
    })
    const done = await call(fake, 'onboardUser', {
      tierId: 'standard-tier',
      cloudaicompanionProject: 'my-own',
      metadata: METADATA,
    })
    expect(done.json).toMatchObject({done: true, response: {cloudaicompanionProject: {id: 'my-own'}}})
    expect((await call(fake, 'generateContent', envelope({project: 'my-own'}))).status).toBe(200)
  })

  it.each([
    [
      'a free tier naming a project',
      {tierId: 'free-tier', cloudaicompanionProject: 'p'},
      400,
      'Precondition check failed.',
    ],
    ['a user-defined tier without one', {tierId: 'standard-tier'}, 400, 'Precondition check failed.'],
    ['a tier not offered', {tierId: 'legacy-tier'}, 400, 'Tier "legacy-tier" is not offered to this account.'],
  ])('refuses onboarding %s', async (_, body, status, message) => {
    const fake = await start({
      account: {
        currentTier: null,
        allowedTiers: [
          {id: 'free-tier', isDefault: true},
          {id: 'standard-tier', userDefinedCloudaicompanionProject: true},
        ],
      },
    })
    const reply = await call(fake, 'onboardUser', {...body, metadata: METADATA})
    expect(reply.status).toBe(status)
    expect(reply.json.error.message).toBe(message)
  })

  it('answers 404 to an operation it never started', async () => {
    const fake = await start({account: {currentTier: null}})
    const reply = await send(fake, '/v1internal/operations/nope')
    expect(reply.status).toBe(404)
    expect(reply.json.error).toMatchObject({code: 404, status: 'NOT_FOUND'})
  })

  it('lists ineligible tiers, whose reasons discovery passes on when there is no project', async () => {
    const ineligibleTiers = [
      {tierId: 'free-tier', reasonCode: 'INELIGIBLE_ACCOUNT', reasonMessage: 'Not available for this account.'},
      {
        tierId: 'standard-tier',
        reasonCode: 'VALIDATION_REQUIRED',
        reasonMessage: 'Verify your account.',
        validationUrl: 'https://accounts.google.com/verify',
      },
    ]
    const fake = await start({account: {currentTier: 'standard-tier', project: null, ineligibleTiers}})
    const load = (await call(fake, 'loadCodeAssist', {metadata: METADATA})).json
    expect(load.ineligibleTiers).toEqual(ineligibleTiers)
    expect(load).not.toHaveProperty('cloudaicompanionProject')
    await expect(discover(fake)).rejects.toThrow(
      'Code Assist offers this account no project. The server says: ' +
        'free-tier: INELIGIBLE_ACCOUNT: Not available for this account.; standard-tier: VALIDATION_REQUIRED: Verify your account..',
    )
  })

  it('answers loadCodeAssist with 403 VALIDATION_REQUIRED when scripted', async () => {
    const url = 'https://verify.example/x'
    const fake = await start({
      script: {
        aux: (req) =>
          req.route === 'loadCodeAssist' ? codeAssistFailure({kind: 'validation-required', url}) : undefined,
      },
    })
    const reply = await call(fake, 'loadCodeAssist', {metadata: METADATA})
    expect(reply.status).toBe(403)
    expect(reply.json.error).toMatchObject({
      code: 403,
      status: 'PERMISSION_DENIED',
      details: [
        {'@type': `${RPC}ErrorInfo`, reason: 'VALIDATION_REQUIRED', domain: DOMAIN, metadata: {validation_link: url}},
        {'@type': `${RPC}Help`, links: [{description: 'Verify your account', url}, {description: 'Learn more'}]},
      ],
    })
    await expect(discover(fake)).rejects.toMatchObject({code: 'gemini_project_failed'})
  })
})

describe('code assist fake: generation', () => {
  const tokens = new Set([TOKEN])
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startCodeAssistFake({name: 'ca-1', tokens})
  })
  afterEach(() => {
    fake.reset()
    tokens.clear()
    tokens.add(TOKEN)
  })
  afterAll(() => fake.close())

  it('answers generateContent with the public Gemini response inside {response, traceId}', async () => {
    const reply = await call(fake, 'generateContent', envelope())
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({
      response: {
        candidates: [{content: {role: 'model', parts: [{text: 'ca-1: hello 🌍'}]}, finishReason: 'STOP', index: 0}],
        usageMetadata: {
          promptTokenCount: expect.any(Number),
          candidatesTokenCount: expect.any(Number),
          totalTokenCount: expect.any(Number),
        },
        modelVersion: 'gemini-2.5-pro',
        responseId: 'fake0000',
      },
      traceId: 'trace-fake0000',
    })
    expect(fake.requests[0]).toMatchObject({
      route: 'generateContent',
      model: 'gemini-2.5-pro',
      key: TOKEN,
      stream: false,
    })
    expect(fake.completed).toBe(1)
  })

  it('streams SSE events with CRLF endings, each an envelope', async () => {
    fake.enqueue({
      kind: 'reply',
      reply: {thinking: {text: 'hmm', signature: 'sig'}, text: 'It is 21°C 🌤', chunkSize: 4},
    })
    const reply = await call(fake, 'streamGenerateContent?alt=sse', envelope())
    expect(reply.status).toBe(200)
    expect(reply.text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)
    const events = parseSse(reply.text).events.map((e) => JSON.parse(e.data))
    expect(events.every((e) => Object.keys(e).join() === 'response,traceId' && e.traceId === 'trace-fake0000')).toBe(
      true,
    )
    const parts = events.flatMap((e) => e.response.candidates[0].content.parts)
    expect(
      parts
        .filter((p) => p.thought)
        .map((p) => p.text)
        .join(''),
    ).toBe('hmm')
    expect(
      parts
        .filter((p) => !p.thought)
        .map((p) => p.text)
        .join(''),
    ).toBe('It is 21°C 🌤')
    expect(parts.find((p) => p.thoughtSignature)).toMatchObject({text: '°C 🌤', thoughtSignature: 'sig'})
    expect(events.at(-1).response.candidates[0].finishReason).toBe('STOP')
    expect(events.at(-1).response.usageMetadata.thoughtsTokenCount).toBeGreaterThan(0)
  })

  it('streams with LF endings when asked', async () => {
    const lf = await startCodeAssistFake({eol: '\n'})
    try {
      const reply = await call(lf, 'streamGenerateContent?alt=sse', envelope())
      expect(reply.text).not.toContain('\r')
      expect(parseSse(reply.text).events.map((e) => JSON.parse(e.data).response.responseId)).toContain('fake0000')
    } finally {
      await lf.close()
    }
  })

  it('reports a mid-stream error as a bare {"error"} event', async () => {
    fake.enqueue({kind: 'stream-error', afterEvents: 1, status: 503, message: 'overloaded'})
    const reply = await call(fake, 'streamGenerateContent?alt=sse', envelope())
    const events = parseSse(reply.text).events.map((e) => JSON.parse(e.data))
    expect(events).toHaveLength(2)
    expect(events[0]).toHaveProperty('response')
    expect(events[1]).toEqual({error: {code: 503, message: 'overloaded', status: 'UNAVAILABLE'}})
  })

  it('counts tokens of the request inside the envelope', async () => {
    const contents = [{role: 'user', parts: [{text: 'count me'}]}]
    const reply = await call(fake, 'countTokens', {request: {model: 'models/gemini-2.5-pro', contents}})
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({totalTokens: expect.any(Number)})
    expect(reply.json.totalTokens).toBeGreaterThan(0)
    expect((await call(fake, 'countTokens', {contents: []})).status).toBe(400)
  })

  it.each([
    ['a body that is not JSON', '{nope', 400, 'Invalid JSON payload received. Unexpected token.'],
    ['an unknown envelope field', envelope({stream: true}), 400, `${UNKNOWN_NAME} "stream": Cannot find field.`],
    ['no model', envelope({model: undefined}), 400, 'model is required.'],
    ['no request', envelope({request: undefined}), 400, 'request is required.'],
    [
      'a model inside the request',
      envelope({}, {model: 'm'}),
      400,
      `${UNKNOWN_NAME} "model" at 'request': Cannot find field.`,
    ],
    ['no project', envelope({project: undefined}), 400, 'project is required.'],
    [
      'a project of another account',
      envelope({project: 'someone-else'}),
      403,
      "Permission 'cloudaicompanion.companions.generateChat' denied on resource " +
        "'//cloudaicompanion.googleapis.com/projects/someone-else/locations/global' (or it may not exist).",
    ],
    [
      'empty contents',
      envelope({}, {contents: []}),
      400,
      '* GenerateContentRequest.contents: contents is not specified\n',
    ],
    [
      'an unknown field in the request',
      envelope({}, {temperature: 1}),
      400,
      `${UNKNOWN_NAME} "temperature" at '': Cannot find field.`,
    ],
  ])('rejects %s', async (_, body, status, message) => {
    const reply = await call(fake, 'generateContent', body)
    expect(reply.status).toBe(status)
    expect(reply.json.error.message).toBe(message)
    expect(fake.completed).toBe(0)
  })

  it('rejects a stale token with 401 and accepts the refreshed one', async () => {
    tokens.clear()
    tokens.add('ya29.new')
    const stale = await call(fake, 'generateContent', envelope())
    expect(stale.status).toBe(401)
    expect(stale.json).toEqual({
      error: {
        code: 401,
        message:
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid ' +
          'authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        status: 'UNAUTHENTICATED',
      },
    })
    expect((await call(fake, 'loadCodeAssist', {metadata: METADATA}, null)).status).toBe(401)
    expect((await call(fake, 'generateContent', envelope(), 'ya29.new')).status).toBe(200)
    expect(fake.calls().map((r) => r.key)).toEqual([TOKEN, undefined, 'ya29.new'])
  })

  it.each([
    [
      'RetryInfo',
      codeAssistFailure({kind: 'rate-limited', retryDelay: '34.074824224s', model: 'gemini-2.5-pro'}),
      429,
      {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'You have exhausted your capacity on this model.',
        details: [
          {
            '@type': `${RPC}ErrorInfo`,
            reason: 'RATE_LIMIT_EXCEEDED',
            domain: DOMAIN,
            metadata: {model: 'gemini-2.5-pro'},
          },
          {'@type': `${RPC}RetryInfo`, retryDelay: '34.074824224s'},
        ],
      },
    ],
    [
      'quotaResetDelay',
      codeAssistFailure({kind: 'rate-limited', quotaResetDelay: '34.07s'}),
      429,
      {details: [{'@type': `${RPC}ErrorInfo`, reason: 'RATE_LIMIT_EXCEEDED', metadata: {quotaResetDelay: '34.07s'}}]},
    ],
    [
      '"after Ns" in the message',
      codeAssistFailure({kind: 'rate-limited', message: 'Quota exceeded. Your quota will reset after 34s.'}),
      429,
      {
        message: 'Quota exceeded. Your quota will reset after 34s.',
        details: [{reason: 'RATE_LIMIT_EXCEEDED', metadata: {}}],
      },
    ],
    [
      'MODEL_CAPACITY_EXHAUSTED',
      codeAssistFailure({kind: 'rate-limited', reason: 'MODEL_CAPACITY_EXHAUSTED'}),
      429,
      {details: [{reason: 'MODEL_CAPACITY_EXHAUSTED'}]},
    ],
    [
      'QUOTA_EXHAUSTED for the day',
      codeAssistFailure({kind: 'quota-exhausted', daily: true}),
      429,
      {
        details: [
          {'@type': `${RPC}ErrorInfo`, reason: 'QUOTA_EXHAUSTED'},
          {'@type': `${RPC}QuotaFailure`, violations: [{quotaId: 'GenerateRequestsPerDayPerProjectPerModel'}]},
        ],
      },
    ],
    [
      'PERMISSION_DENIED',
      codeAssistFailure({kind: 'permission-denied'}),
      403,
      {code: 403, status: 'PERMISSION_DENIED', message: 'The caller does not have permission'},
    ],
    [
      'VALIDATION_REQUIRED',
      codeAssistFailure({kind: 'validation-required'}),
      403,
      {details: [{reason: 'VALIDATION_REQUIRED'}, {'@type': `${RPC}Help`}]},
    ],
    ['a plain retryAfter', {kind: 'status', status: 429, retryAfter: 7} as const, 429, {details: [{retryDelay: '7s'}]}],
  ])('answers a scripted 4xx with %s', async (_, behaviour, status, error) => {
    fake.enqueue(behaviour)
    const reply = await call(fake, 'streamGenerateContent?alt=sse', envelope())
    expect(reply.status).toBe(status)
    expect(reply.json.error).toMatchObject(error)
    expect(reply.json.error.details?.length ?? 0).toBe((error as {details?: unknown[]}).details?.length ?? 0)
  })
})
