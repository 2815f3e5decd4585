import {describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, type FakeUpstream, type ReplySpec} from '../fakes/index.js'
import {
  TIME,
  WEATHER,
  anthropicToolConversation,
  geminiToolConversation,
  openaiToolConversation,
  type ToolConversation,
} from '../helpers/conversations.js'
import {claudeInstance, openaiInstance, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

/** Step one of every conversation: text, then two parallel tool calls. Step two: the fake echoes the results. */
const CALLS: ReplySpec = {
  text: 'Checking both.',
  toolCalls: [
    {name: 'get_weather', arguments: {city: 'Paris'}},
    {name: 'get_time', arguments: {tz: 'Europe/Paris'}},
  ],
  usage: {input: 30, output: 12},
  chunkSize: 3,
}

let fake: FakeUpstream | undefined
const h = useProxyHarness()

const UPSTREAMS = [
  {
    type: 'openai-custom',
    start: () => startOpenAIFake({name: 'up', script: {queue: [{kind: 'reply', reply: CALLS}]}}),
    instance: openaiInstance,
  },
  {
    type: 'claude-custom',
    start: () => startAnthropicFake({name: 'up', script: {queue: [{kind: 'reply', reply: CALLS}]}}),
    instance: claudeInstance,
  },
] as const

async function conversation(upstream: (typeof UPSTREAMS)[number], stream: boolean): Promise<ToolConversation> {
  fake = await upstream.start()
  h.fakes = [fake]
  h.proxy = await startTestProxy({[upstream.type]: [upstream.instance(fake, 'up')]})
  return {
    base: `${h.proxy.url}/${upstream.type}`,
    stream,
    tools: [WEATHER, TIME],
    calls: [
      ['get_weather', {city: 'Paris'}],
      ['get_time', {tz: 'Europe/Paris'}],
    ],
    preamble: 'Checking both.',
    results: {get_weather: '21°C', get_time: '14:00'},
  }
}

describe.each(UPSTREAMS)('two parallel tool calls, then the answer, against $type', (upstream) => {
  for (const stream of [false, true]) {
    it(`openai SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
      const {ids} = await openaiToolConversation(await conversation(upstream, stream))
      // Ids travel unchanged: the upstream sees the ids it issued, or the client's own, on the way back.
      if (upstream.type === 'openai-custom')
        expect(fake!.requests[1]!.body.messages[1].tool_calls.map((c: {id: string}) => c.id)).toEqual(ids)
      else
        expect(
          fake!.requests[1]!.body.messages[1].content.filter((b: {type: string}) => b.type === 'tool_use').map(
            (b: {id: string}) => b.id,
          ),
        ).toEqual(ids)
    })

    it(`anthropic SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
      const {ids} = await anthropicToolConversation(await conversation(upstream, stream))
      if (upstream.type === 'claude-custom')
        expect(
          fake!.requests[1]!.body.messages[1].content.filter((b: {type: string}) => b.type === 'tool_use').map(
            (b: {id: string}) => b.id,
          ),
        ).toEqual(ids)
      else expect(fake!.requests[1]!.body.messages.at(-1).tool_call_id).toBe(ids[1])
    })

    it(`@google/genai SDK, ${stream ? 'streaming' : 'non-streaming'}`, async () => {
      await geminiToolConversation(await conversation(upstream, stream))
      expect(fake!.count).toBe(2)
    })
  }
})
