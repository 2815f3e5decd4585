// What the proxy answers in each client protocol, collected for the conformance tests: real requests through the
// proxy into a fake of every upstream type, with a text answer that thinks first, an answer that calls a tool, an
// upstream error and a stream that breaks, and the errors and model list the proxy makes itself.
import {beforeAll, expect, it} from 'vitest'
import {
  parseSse,
  startAnthropicFake,
  startOpenAIFake,
  startResponsesFake,
  type Behaviour,
  type FakeUpstream,
} from '../fakes/index.js'
import {startOAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, get, openaiInstance, post, startTestProxy} from '../helpers/proxy.js'
import type {Sample, Violation, WireType} from './typecheck.js'

export type ClientProtocol = 'openai' | 'responses' | 'anthropic' | 'gemini'

export const TYPES = [
  'openai-custom',
  'openaiResponses-custom',
  'claude-custom',
  'gemini-cli-oauth',
  'claude-kiro-oauth',
  'openai-qwen-oauth',
] as const
type UpstreamType = (typeof TYPES)[number]

export const MODEL = 'claude-sonnet-4-5'
const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']},
}

const text = 'What is the weather in Paris?'

function modelOf(type: UpstreamType): string {
  // The Qwen portal serves its own models only.
  return type === 'openai-qwen-oauth' ? 'qwen3-coder-plus' : MODEL
}

/** The request of each client protocol, streamed or not, offering the weather tool */
function request(protocol: ClientProtocol, type: UpstreamType, stream: boolean): {path: string; body: unknown} {
  const model = modelOf(type)
  switch (protocol) {
    case 'openai':
      return {
        path: '/v1/chat/completions',
        body: {
          model,
          stream,
          ...(stream && {stream_options: {include_usage: true}}),
          messages: [{role: 'user', content: text}],
          tools: [{type: 'function', function: WEATHER}],
        },
      }
    case 'responses':
      return {
        path: '/v1/responses',
        body: {model, stream, input: text, tools: [{type: 'function', ...WEATHER}]},
      }
    case 'anthropic':
      return {
        path: '/v1/messages',
        body: {
          model,
          max_tokens: 1024,
          stream,
          messages: [{role: 'user', content: text}],
          tools: [{name: WEATHER.name, description: WEATHER.description, input_schema: WEATHER.parameters}],
        },
      }
    case 'gemini':
      return {
        path: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        body: {contents: [{role: 'user', parts: [{text}]}], tools: [{functionDeclarations: [WEATHER]}]},
      }
  }
}

/** The vendor type of a body (status 200 or not) and of a stream event */
function typeOf(protocol: ClientProtocol, value: any, streamed: boolean, ok: boolean): WireType {
  switch (protocol) {
    case 'openai':
      return !ok || value.error !== undefined
        ? 'OpenAIError'
        : streamed
          ? 'OpenAIChatCompletionChunk'
          : 'OpenAIChatCompletion'
    case 'responses':
      return !ok ? 'OpenAIError' : streamed ? 'OpenAIResponseStreamEvent' : 'OpenAIResponse'
    case 'anthropic':
      if (!ok || value.type === 'error') return 'AnthropicError'
      return value.type === 'ping' ? 'AnthropicPing' : streamed ? 'AnthropicStreamEvent' : 'AnthropicMessage'
    case 'gemini':
      return !ok || value.error !== undefined ? 'GeminiError' : 'GeminiResponse'
  }
}

/** The vendor types each client protocol's answers must show up as, from every upstream type */
const KINDS: Record<ClientProtocol, WireType[]> = {
  openai: ['OpenAIChatCompletion', 'OpenAIChatCompletionChunk', 'OpenAIError'],
  responses: ['OpenAIResponse', 'OpenAIResponseStreamEvent', 'OpenAIError', 'OpenAICompaction'],
  anthropic: ['AnthropicMessage', 'AnthropicStreamEvent', 'AnthropicError'],
  gemini: ['GeminiResponse', 'GeminiError'],
}

const SCENARIOS: Array<{name: string; behaviour: Behaviour}> = [
  {
    name: 'thinking and text',
    behaviour: {
      kind: 'reply',
      reply: {thinking: {text: 'The user wants weather.', signature: 'sig-0123456789'}, text: 'It is sunny.'},
    },
  },
  {
    name: 'a tool call',
    behaviour: {
      kind: 'reply',
      reply: {text: 'Let me look.', toolCalls: [{name: 'get_weather', arguments: {city: 'Paris'}}]},
    },
  },
  {name: 'an upstream 400', behaviour: {kind: 'status', status: 400, message: 'The request is not valid.'}},
  {
    name: 'an upstream failure mid-stream',
    behaviour: {
      kind: 'stream-error',
      afterEvents: 3,
      status: 500,
      reply: {text: 'It is sunny in Paris.', chunkSize: 2},
    },
  },
]

/** Requests to the protocol's other routes that the proxy answers with an error of its own; GET without a body */
const OWN_ROUTE_ERRORS: Partial<Record<ClientProtocol, Array<[name: string, path: string, body?: unknown]>>> = {
  openai: [['embeddings from a type without them', '/claude-custom/v1/embeddings', {model: MODEL, input: 'Paris'}]],
  responses: [['a stored response it does not have', '/v1/responses/resp_0123456789abcdef0123456789abcdef']],
}

export type Answers = Record<ClientProtocol, Sample[]>

/** Every answer of the protocols' scenarios, from a proxy started for them and stopped before this returns */
async function collectAnswers(protocols: readonly ClientProtocol[]): Promise<Answers> {
  const samples: Answers = {openai: [], responses: [], anthropic: [], gemini: []}
  const [openai, responses, anthropic] = await Promise.all([
    startOpenAIFake({name: 'openai'}),
    startResponsesFake({name: 'responses'}),
    startAnthropicFake({name: 'anthropic'}),
  ])
  const oauth = await startOAuthUpstreams()
  const fakes: Record<UpstreamType, FakeUpstream> = {
    'openai-custom': openai,
    'openaiResponses-custom': responses,
    'claude-custom': anthropic,
    'gemini-cli-oauth': oauth.codeAssist,
    'claude-kiro-oauth': oauth.kiro as unknown as FakeUpstream,
    'openai-qwen-oauth': oauth.portal,
  }
  const proxy = await startTestProxy(
    {
      ...oauth.pool(),
      'openai-custom': [openaiInstance(openai, 'openai')],
      'openaiResponses-custom': [openaiInstance(responses, 'responses')],
      'claude-custom': [claudeInstance(anthropic, 'anthropic')],
    },
    // Every failure here is scripted: none may take an upstream out of the pool or be retried elsewhere.
    {config: {ERROR_THRESHOLD: 1000, RETRY_MAX_ATTEMPTS: 1}},
  )
  try {
    for (const protocol of protocols) {
      for (const type of TYPES) {
        for (const scenario of SCENARIOS) {
          for (const stream of [false, true]) {
            if (scenario.behaviour.kind === 'stream-error' && !stream) continue
            fakes[type].enqueue(scenario.behaviour)
            const {path, body} = request(protocol, type, stream)
            const response = await post(`${proxy.url}/${type}${path}`, body)
            const label = `${protocol} ← ${type}, ${scenario.name}, ${stream ? 'streamed' : 'not streamed'}`
            const ok = response.status === 200
            if (!stream || !ok) {
              const value = response.json()
              samples[protocol].push({label, type: typeOf(protocol, value, false, ok), value})
              if (protocol === 'responses' && ok) {
                // The proxy keeps the response, for `previous_response_id` and to answer a GET of it.
                const kept = await get(`${proxy.url}/v1/responses/${value.id}`)
                const answer = kept.json()
                const wire = typeOf(protocol, answer, false, kept.status === 200)
                samples[protocol].push({label: `${label}, read back`, type: wire, value: answer})
              }
              continue
            }
            for (const [i, event] of parseSse(response.text).events.entries()) {
              if (event.data === '[DONE]') continue
              const value = JSON.parse(event.data)
              const wire = typeOf(protocol, value, true, true)
              const name = event.event ?? value.type ?? ''
              samples[protocol].push({label: `${label}, event ${i} (${name})`, type: wire, value})
            }
          }
        }
      }
      if (protocol === 'responses') {
        for (const type of TYPES) {
          // Only a Responses upstream compacts by itself; for the others the proxy makes the answer.
          fakes[type].enqueue(SCENARIOS[0]!.behaviour)
          const response = await post(`${proxy.url}/${type}/v1/responses/compact`, {model: modelOf(type), input: text})
          const value = response.json()
          const wire = response.status === 200 ? 'OpenAICompaction' : 'OpenAIError'
          samples.responses.push({label: `responses ← ${type}, a compaction`, type: wire, value})
        }
      }
      // Errors the proxy makes itself: a request its codec refuses, one that is not JSON, a route it does not serve,
      // and its own routes of the protocol.
      const {path} = request(protocol, 'openai-custom', false)
      const errors: Array<[name: string, path: string, body?: unknown]> = [
        ['a request without its messages', `/openai-custom${path}`, {model: MODEL}],
        ['a body that is not JSON', `/openai-custom${path}`, '{"model":'],
        ['an unknown route', `/openai-custom${path.replace(/(completions|responses|messages|Content)/, 'x')}`, {}],
        ...(OWN_ROUTE_ERRORS[protocol] ?? []),
      ]
      for (const [name, path, body] of errors) {
        // Off its routes, the proxy tells an Anthropic client by the header every one of them sends.
        const headers: Record<string, string> = protocol === 'anthropic' ? {'anthropic-version': '2023-06-01'} : {}
        const url = `${proxy.url}${path}`
        const response = body === undefined ? await get(url, headers) : await post(url, body, headers)
        expect(response.status, `${protocol}, ${name}`).toBeGreaterThanOrEqual(400)
        const value = response.json()
        samples[protocol].push({label: `${protocol}, ${name}`, type: typeOf(protocol, value, false, false), value})
      }
    }
    // The model list of OpenAI's clients, which Responses clients read too: of every type, named with its prefix.
    if (protocols.includes('openai')) {
      const response = await get(`${proxy.url}/v1/models`)
      expect(response.status).toBe(200)
      samples.openai.push({label: 'openai, the model list', type: 'OpenAIModelList', value: response.json()})
    }
  } finally {
    await proxy.cleanup()
    await Promise.all([openai, responses, anthropic].map((f) => f.close()))
    await oauth.close()
  }
  return samples
}

/**
 * Every kind of answer showed up from every upstream type, and the broken stream ended with the protocol's error
 * event: a check of the answers can pass only because there was something to check.
 */
function expectEveryKind(answers: Answers, protocol: ClientProtocol): void {
  for (const type of TYPES) {
    const seen = new Set(
      answers[protocol].filter((s) => s.label.startsWith(`${protocol} ← ${type},`)).map((s) => s.type),
    )
    expect([...seen], `${protocol} ← ${type}`).toEqual(expect.arrayContaining(KINDS[protocol]))
    const failed = answers[protocol].filter((s) => s.label.startsWith(`${protocol} ← ${type}, an upstream failure`))
    const last = failed.at(-1)?.value as {type?: string; error?: unknown} | undefined
    expect(last?.error !== undefined || last?.type === 'error', `${protocol} ← ${type}: ${JSON.stringify(last)}`).toBe(
      true,
    )
  }
}

/**
 * In a describe block: collects the protocols' answers once, then one test a protocol that `check` finds nothing
 * wrong with any of them. Returns the answers, for the block's other tests.
 */
export function checkEveryAnswer(
  protocols: readonly ClientProtocol[],
  check: (samples: Sample[]) => Violation[],
): () => Answers {
  let answers: Answers
  beforeAll(async () => {
    answers = await collectAnswers(protocols)
  }, 60_000)
  it.each(protocols)('%s: every body, stream event and error', (protocol) => {
    expectEveryKind(answers, protocol)
    const violations = check(answers[protocol])
    expect(violations.map((v) => `${v.label}\n  ${v.message}`).join('\n')).toBe('')
  })
  return () => answers
}
