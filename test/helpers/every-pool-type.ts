// A proxy over one instance of each of the six pool types, each on its own fake upstream: for tests that replay one
// request through every type and check what each upstream received.
import {
  startAnthropicFake,
  startOpenAIFake,
  startResponsesFake,
  type FakeUpstream,
  type RecordedRequest,
} from '../fakes/index.js'
import {startOAuthUpstreams, type OAuthUpstreamOptions, type OAuthUpstreams} from './oauth-upstreams.js'
import {claudeInstance, openaiInstance, startTestProxy, type TestProxy} from './proxy.js'

export interface EveryPoolType {
  proxy: TestProxy
  openai: FakeUpstream
  anthropic: FakeUpstream
  responses: FakeUpstream
  oauth: OAuthUpstreams
  close(): Promise<void>
}

export async function startEveryPoolType(
  config?: Record<string, unknown>,
  upstreams: OAuthUpstreamOptions = {},
): Promise<EveryPoolType> {
  const [openai, anthropic, responses, oauth] = await Promise.all([
    startOpenAIFake({name: 'openai'}),
    startAnthropicFake({name: 'anthropic'}),
    startResponsesFake({name: 'responses'}),
    startOAuthUpstreams(upstreams),
  ])
  const proxy = await startTestProxy(
    {
      ...oauth.pool(),
      'openai-custom': [openaiInstance(openai, 'openai')],
      'claude-custom': [claudeInstance(anthropic, 'anthropic')],
      'openaiResponses-custom': [openaiInstance(responses, 'responses')],
    },
    config && {config},
  )
  return {
    proxy,
    openai,
    anthropic,
    responses,
    oauth,
    async close() {
      await proxy.cleanup()
      await Promise.all([openai, anthropic, responses, oauth].map((f) => f.close()))
    },
  }
}

const MODEL_CALLS = new Set([
  'chat.completions',
  'messages',
  'generateContent',
  'streamGenerateContent',
  'generateAssistantResponse',
  'responses',
])

/** The model calls a fake received (Code Assist also gets account calls) */
export const generations = (fake: FakeUpstream): RecordedRequest[] =>
  fake.requests.filter((r) => MODEL_CALLS.has(r.route))
