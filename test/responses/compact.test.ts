// `POST /v1/responses/compact`: passed through to a Responses upstream, and run as a summarising turn through any
// other type, answered in OpenAI's compaction shape that the openai SDK's `responses.compact` reads.
import OpenAI from 'openai'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake, startResponsesFake, type FakeUpstream} from '../fakes/index.js'
import {claudeInstance, openaiInstance, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

/** A Codex-like history: two user turns, an answer, a tool call and its output. */
const input = [
  {type: 'message', role: 'user', content: [{type: 'input_text', text: 'fix the build'}]},
  {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Looking at it.'}]},
  {type: 'function_call', call_id: 'call_ls', name: 'exec_command', arguments: '{"cmd":"ls"}'},
  {type: 'function_call_output', call_id: 'call_ls', output: 'src package.json'},
  {type: 'message', role: 'user', content: [{type: 'input_text', text: 'and run the tests'}]},
]
const tools = [
  {type: 'function', name: 'exec_command', parameters: {type: 'object', properties: {cmd: {type: 'string'}}}},
]
const SUMMARY = 'The user wants the build fixed; ls showed src and package.json. Next: run the tests.'

let proxy: TestProxy
let fakes: Record<'openai-custom' | 'claude-custom' | 'openaiResponses-custom', FakeUpstream>

beforeAll(async () => {
  const [openai, anthropic, responses] = await Promise.all([
    startOpenAIFake({name: 'oa'}),
    startAnthropicFake({name: 'an'}),
    startResponsesFake({name: 'rs'}),
  ])
  fakes = {'openai-custom': openai, 'claude-custom': anthropic, 'openaiResponses-custom': responses}
  proxy = await startTestProxy(
    {
      'openai-custom': [openaiInstance(openai, 'oa')],
      'claude-custom': [claudeInstance(anthropic, 'an')],
      'openaiResponses-custom': [openaiInstance(responses, 'rs')],
    },
    {maxAttempts: 1},
  )
})

afterAll(async () => {
  await proxy.cleanup()
  await Promise.all(Object.values(fakes).map((f) => f.close()))
})

describe('POST /v1/responses/compact', () => {
  it('passes through to a Responses upstream’s own /responses/compact', async () => {
    const fake = fakes['openaiResponses-custom']
    const body = JSON.stringify({model: 'gpt-5.4', input, tools, instructions: 'You are Codex.'})
    const answer = await post(`${proxy.url}/openaiResponses-custom/v1/responses/compact`, body)
    expect(answer.status, answer.text).toBe(200)
    expect(fake.requests.at(-1)).toMatchObject({path: '/v1/responses/compact', rawBody: body})
    expect(answer.json()).toMatchObject({
      object: 'response.compaction',
      output: [
        {type: 'message', role: 'user', content: [{type: 'input_text', text: 'fix the build'}]},
        {type: 'message', role: 'user', content: [{type: 'input_text', text: 'and run the tests'}]},
        {type: 'compaction', encrypted_content: expect.any(String)},
      ],
    })
    expect(proxy.records.at(-1)).toMatchObject({
      route: '/openaiResponses-custom/v1/responses/compact',
      protocol: 'responses',
      status: 200,
    })
  })

  for (const type of ['openai-custom', 'claude-custom'] as const) {
    it(`${type}: a summarising turn, answered as OpenAI's compaction, which the SDK reads`, async () => {
      const fake = fakes[type]
      fake.enqueue({kind: 'reply', reply: {text: SUMMARY, usage: {input: 120, output: 20}}})
      const client = new OpenAI({apiKey: 'x', baseURL: `${proxy.url}/${type}/v1`, maxRetries: 0})
      const compacted = await client.responses.compact({
        model: 'claude-sonnet-4-6',
        input: input as OpenAI.Responses.ResponseInputItem[],
      })
      // The upstream was asked for a summary of the whole conversation.
      const sent = JSON.stringify(fake.requests.at(-1)!.body)
      expect(sent).toMatch(/You compact a conversation/)
      for (const text of ['fix the build', 'Looking at it.', 'src package.json', 'and run the tests'])
        expect(sent).toContain(text)
      expect(compacted).toMatchObject({
        id: expect.stringMatching(/^resp_/),
        object: 'response.compaction',
        output: [
          input[0],
          input[4],
          {type: 'message', role: 'user', content: [{type: 'input_text', text: expect.any(String)}]},
        ],
        usage: {input_tokens: 120, output_tokens: 20},
      })
      // Items of the conversation, each with its id and status.
      for (const item of compacted.output)
        expect(item).toMatchObject({id: expect.stringMatching(/^msg_/), status: 'completed'})
      const summary = (compacted.output[2] as {content: Array<{text: string}>}).content[0]!.text
      expect(summary).toMatch(/^The conversation so far was compacted/)
      expect(summary.endsWith(SUMMARY)).toBe(true)
      expect(proxy.records.at(-1)).toMatchObject({protocol: 'responses', type, status: 200})
    })

    it(`${type}: a user message given as a string is listed with its text as a part`, async () => {
      fakes[type].enqueue({kind: 'reply', reply: {text: SUMMARY}})
      const answer = await post(`${proxy.url}/${type}/v1/responses/compact`, {
        model: 'claude-sonnet-4-6',
        input: [{role: 'user', content: 'fix the build'}],
      })
      expect(answer.json().output[0]).toEqual({
        id: expect.stringMatching(/^msg_/),
        status: 'completed',
        type: 'message',
        role: 'user',
        content: [{type: 'input_text', text: 'fix the build'}],
      })
    })

    it(`${type}: an upstream failure in the summarising turn reaches the client as a Responses error`, async () => {
      const fake = fakes[type]
      for (const status of [400, 500]) {
        fake.enqueue({kind: 'status', status, message: `upstream says no ${status}`})
        const answer = await post(`${proxy.url}/${type}/v1/responses/compact`, {model: 'claude-sonnet-4-6', input})
        expect(answer.status).toBe(status === 500 ? 502 : 400)
        expect(String(answer.headers['content-type'])).toMatch(/application\/json/)
        expect(answer.json()).toEqual({
          error: {
            message: expect.stringContaining(`upstream says no ${status}`),
            type: status === 500 ? 'server_error' : 'invalid_request_error',
            param: null,
            code: null,
          },
        })
        expect(proxy.records.at(-1)).toMatchObject({protocol: 'responses', type, status: answer.status})
      }
    })
  }
})
