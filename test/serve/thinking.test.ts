// Thinking across vendors, end to end: several thinking blocks reach an OpenAI chat client as one reasoning text
// with a blank line between them, and a thinking budget that cannot fit max_tokens says so in the debug log.
import {describe, expect, it} from 'vitest'
import {parseSse, startAnthropicFake} from '../fakes/index.js'
import {claudeInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()

const MODEL = 'claude-sonnet-4-6'

async function claudeProxy(dropped: string[] = []) {
  const anthropic = await startAnthropicFake({name: 'anthropic'})
  h.fakes = [anthropic]
  h.proxy = await startTestProxy(
    {'claude-custom': [claudeInstance(anthropic, 'anthropic')]},
    {onDropped: (field) => dropped.push(field)},
  )
  return {anthropic, url: `${h.proxy.url}/claude-custom/v1/chat/completions`}
}

const TWO_THOUGHTS = [
  {type: 'thinking', thinking: 'First.', signature: 's1'},
  {type: 'thinking', thinking: 'Second.', signature: 's2'},
  {type: 'text', text: 'Done.'},
]

function anthropicStream(): string {
  const events: Record<string, unknown>[] = [
    {
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [],
        stop_reason: null,
        usage: {input_tokens: 1, output_tokens: 0},
      },
    },
  ]
  TWO_THOUGHTS.forEach((block, index) => {
    if (block.type === 'thinking') {
      events.push(
        {type: 'content_block_start', index, content_block: {type: 'thinking', thinking: '', signature: ''}},
        {type: 'content_block_delta', index, delta: {type: 'thinking_delta', thinking: block.thinking}},
        {type: 'content_block_delta', index, delta: {type: 'signature_delta', signature: block.signature}},
      )
    } else {
      events.push(
        {type: 'content_block_start', index, content_block: {type: 'text', text: ''}},
        {type: 'content_block_delta', index, delta: {type: 'text_delta', text: block.text}},
      )
    }
    events.push({type: 'content_block_stop', index})
  })
  events.push(
    {type: 'message_delta', delta: {stop_reason: 'end_turn', stop_sequence: null}, usage: {output_tokens: 5}},
    {type: 'message_stop'},
  )
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')
}

describe('two Anthropic thinking blocks, for an OpenAI chat client', () => {
  const body = {model: MODEL, messages: [{role: 'user', content: 'Hi.'}], reasoning_effort: 'low'}

  it('plain: one reasoning_content with a blank line between them', async () => {
    const {anthropic, url} = await claudeProxy()
    const answer = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: TWO_THOUGHTS,
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {input_tokens: 1, output_tokens: 5},
    }
    anthropic.enqueue({
      kind: 'raw',
      status: 200,
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(answer),
    })
    const response = await post(url, body)
    expect(response.status, response.text).toBe(200)
    expect(response.json().choices[0].message).toMatchObject({reasoning_content: 'First.\n\nSecond.', content: 'Done.'})
  })

  it('streamed: the blank line comes once, before the second block', async () => {
    const {anthropic, url} = await claudeProxy()
    anthropic.enqueue({
      kind: 'raw',
      status: 200,
      headers: {'content-type': 'text/event-stream'},
      body: anthropicStream(),
    })
    const response = await post(url, {...body, stream: true})
    expect(response.status, response.text).toBe(200)
    const deltas = parseSse(response.text)
      .events.filter((e) => e.data !== '[DONE]')
      .map((e) => JSON.parse(e.data).choices[0]?.delta?.reasoning_content)
      .filter((d) => d !== undefined)
    expect(deltas).toEqual(['First.', '\n\nSecond.'])
  })
})

describe('a thinking budget and max_tokens, converted for claude-custom', () => {
  const ask = (url: string, max: number) =>
    post(url, {model: MODEL, messages: [{role: 'user', content: 'Hi.'}], reasoning_effort: 'low', max_tokens: max})

  it('left out when it cannot fit, with a debug line', async () => {
    const dropped: string[] = []
    const {anthropic, url} = await claudeProxy(dropped)
    expect((await ask(url, 1000)).status).toBe(200)
    expect(anthropic.calls('messages')[0]!.body).toMatchObject({max_tokens: 1000})
    expect(anthropic.calls('messages')[0]!.body.thinking).toBeUndefined()
    expect(dropped).toContain('thinking (budget 2048 does not fit max_tokens 1000)')
  })

  it('sent whole when it fits, without a line (control)', async () => {
    const dropped: string[] = []
    const {anthropic, url} = await claudeProxy(dropped)
    expect((await ask(url, 4000)).status).toBe(200)
    expect(anthropic.calls('messages')[0]!.body.thinking).toEqual({type: 'enabled', budget_tokens: 2048})
    expect(dropped.filter((field) => field.startsWith('thinking'))).toEqual([])
  })
})
