// The openai SDK's Responses client (`responses.create`, `responses.stream`) through every pool type: text answers
// and a two-step round trip with two parallel function calls, the history spelled out in `input` as Codex sends it
// with `store: false`. The call ids the client sees are the ones the upstream issued, and they reach it unchanged.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {
  startAnthropicFake,
  startOpenAIFake,
  startResponsesFake,
  type FakeUpstream,
  type ReplySpec,
} from '../fakes/index.js'
import {TIME, WEATHER, responsesText, responsesToolConversation} from '../helpers/conversations.js'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {claudeInstance, openaiInstance, startTestProxy, type TestProxy} from '../helpers/proxy.js'

/** Each type's upstream, the model it takes, and the call ids it issues in its own style. */
const TYPES = [
  {type: 'openai-custom', model: 'gpt-4o-mini', ids: ['call_w8Kd', 'call_t3Lp']},
  {type: 'claude-custom', model: 'claude-sonnet-4-6', ids: ['toolu_01Wx', 'toolu_01Tm']},
  {type: 'gemini-cli-oauth', model: 'gemini-2.5-flash', ids: ['fc-weather-1', 'fc-time-2']},
  {type: 'claude-kiro-oauth', model: 'claude-sonnet-4-6', ids: ['tooluse_Wq1', 'tooluse_Tq2']},
  {type: 'openai-qwen-oauth', model: 'qwen3-coder-plus', ids: ['call_qw_1', 'call_qt_2']},
  {type: 'openaiResponses-custom', model: 'gpt-5.4', ids: ['call_rW9', 'call_rT8']},
] as const

type Type = (typeof TYPES)[number]['type']

/** Text, then two parallel calls with the given ids. */
function parallelCalls(ids: readonly string[]): ReplySpec {
  return {
    text: 'Checking both.',
    toolCalls: [
      {id: ids[0], name: 'get_weather', arguments: {city: 'Paris'}},
      {id: ids[1], name: 'get_time', arguments: {tz: 'Europe/Paris'}},
    ],
    chunkSize: 3,
  }
}

let up: OAuthUpstreams
let proxy: TestProxy
const own: FakeUpstream[] = []
const fakes = {} as Record<Type, FakeUpstream>

beforeAll(async () => {
  up = await startOAuthUpstreams()
  const [openai, anthropic, responses] = await Promise.all([
    startOpenAIFake({name: 'oa'}),
    startAnthropicFake({name: 'an'}),
    startResponsesFake({name: 'rs'}),
  ])
  own.push(openai, anthropic, responses)
  Object.assign(fakes, {
    'openai-custom': openai,
    'claude-custom': anthropic,
    'openaiResponses-custom': responses,
    'gemini-cli-oauth': up.codeAssist,
    'claude-kiro-oauth': up.kiro,
    'openai-qwen-oauth': up.portal,
  })
  proxy = await startTestProxy({
    ...up.pool(),
    'openai-custom': [openaiInstance(openai, 'oa')],
    'claude-custom': [claudeInstance(anthropic, 'an')],
    'openaiResponses-custom': [openaiInstance(responses, 'rs')],
  })
})

afterAll(async () => {
  await proxy.cleanup()
  await Promise.all(own.map((f) => f.close()))
  await up.close()
})

/** The model calls a fake answered, leaving out Code Assist's project lookups. */
const modelCalls = (fake: FakeUpstream) => fake.requests.filter((r) => !/loadCodeAssist|onboardUser/.test(r.route))

describe.each(TYPES)('the openai SDK over Responses, served by $type', ({type, model, ids}) => {
  for (const stream of [false, true]) {
    const how = stream ? 'responses.stream + finalResponse' : 'responses.create'

    it(`${how}: a text answer`, async () => {
      const text = await responsesText(`${proxy.url}/${type}`, stream, model, 'héllo 🌍')
      expect(text).toMatch(/: héllo 🌍$/)
      expect(proxy.records.at(-1)).toMatchObject({protocol: 'responses', type, status: 200, stream})
    })

    it(`${how}: two parallel calls, their outputs sent back with the history, the final text`, async () => {
      const fake = fakes[type]
      fake.enqueue({kind: 'reply', reply: parallelCalls(ids)})
      const before = modelCalls(fake).length
      const conversation = await responsesToolConversation({
        base: `${proxy.url}/${type}`,
        stream,
        model,
        tools: [WEATHER, TIME],
        calls: [
          ['get_weather', {city: 'Paris'}],
          ['get_time', {tz: 'Europe/Paris'}],
        ],
        preamble: 'Checking both.',
        results: {get_weather: '21°C', get_time: '14:00'},
      })
      expect(conversation.ids).toEqual(ids)
      const [, second] = modelCalls(fake).slice(before)
      // The upstream got each of its ids back twice, unchanged: on its own call and on the result answering it.
      for (const id of ids) expect(second!.rawBody.split(JSON.stringify(id)).length - 1, id).toBe(2)
    })
  }
})
