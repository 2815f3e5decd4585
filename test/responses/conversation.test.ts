// `previous_response_id` through the proxy: expanded into the full history for a converted type, passed through to
// the instance that holds the response on openaiResponses-custom (and expanded for another one when it cannot take
// it), refused in OpenAI's words when unknown; the store's `store: false`, GET/DELETE and limits.
import OpenAI from 'openai'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, startResponsesFake, type FakeUpstream, type ReplySpec} from '../fakes/index.js'
import {TIME, WEATHER} from '../helpers/conversations.js'
import {get, openaiInstance, post, startTestProxy, testAgent, type TestProxy} from '../helpers/proxy.js'
import {request} from 'undici'

const TOOLS = [WEATHER, TIME].map((f) => ({type: 'function', ...f}))
const CALLS: ReplySpec = {
  toolCalls: [
    {id: 'call_w1', name: 'get_weather', arguments: {city: 'Paris'}},
    {id: 'call_t2', name: 'get_time', arguments: {tz: 'Europe/Paris'}},
  ],
}

const notFound = (id: string) => ({
  error: {
    message: `Previous response with id '${id}' not found.`,
    type: 'invalid_request_error',
    param: 'previous_response_id',
    code: 'previous_response_not_found',
  },
})

/** A chat message's text, whether its content is a string or parts. */
function chatText(message: {content: unknown}): string {
  const {content} = message
  if (typeof content === 'string') return content
  return (Array.isArray(content) ? content : []).map((part: {text?: string}) => part.text ?? '').join('')
}

/** The client's text of a plain or streamed answer. */
function outputText(response: {output: Array<{type: string; content?: Array<{text?: string}>}>}): string {
  return response.output
    .filter((item) => item.type === 'message')
    .flatMap((item) => item.content ?? [])
    .map((part) => part.text ?? '')
    .join('')
}

/** The completed response at the end of an SSE answer. */
function streamedResponse(text: string): any {
  const completed = text.split('\n').filter((line) => line.startsWith('data: {"type":"response.completed"'))
  expect(completed).toHaveLength(1)
  return JSON.parse(completed[0]!.slice('data: '.length)).response
}

async function del(url: string): Promise<{status: number; json: () => any}> {
  const response = await request(url, {method: 'DELETE', dispatcher: testAgent})
  const text = await response.body.text()
  return {status: response.statusCode, json: () => JSON.parse(text)}
}

describe('previous_response_id on a converted type (openai-custom)', () => {
  let fake: FakeUpstream
  let proxy: TestProxy
  let url: string
  beforeAll(async () => {
    fake = await startOpenAIFake({name: 'oa'})
    proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'oa')]})
    url = `${proxy.url}/openai-custom/v1/responses`
  })
  afterAll(async () => {
    await proxy.cleanup()
    await fake.close()
  })

  it('the upstream receives the whole history: first input, first output, new input (first turn streamed)', async () => {
    const first = await post(url, {model: 'gpt-4o-mini', input: 'first question', stream: true})
    expect(first.status, first.text).toBe(200)
    const id = streamedResponse(first.text).id
    const second = await post(url, {model: 'gpt-4o-mini', previous_response_id: id, input: 'second question'})
    expect(second.status, second.text).toBe(200)
    expect(outputText(second.json())).toBe('oa: second question')
    // The answer names the response it continues, as OpenAI's does.
    expect(second.json().previous_response_id).toBe(id)
    const third = await post(url, {model: 'gpt-4o-mini', previous_response_id: second.json().id, input: 'third'})
    expect(third.status, third.text).toBe(200)
    const sent = fake.requests.at(-1)!.body.messages.map((m: {role: string; content: unknown}) => [m.role, chatText(m)])
    expect(sent).toEqual([
      ['user', 'first question'],
      ['assistant', 'oa: first question'],
      ['user', 'second question'],
      ['assistant', 'oa: second question'],
      ['user', 'third'],
    ])
  })

  it('a tool round trip: the follow-up carries only the outputs, the upstream gets calls and results', async () => {
    fake.enqueue({kind: 'reply', reply: CALLS})
    const first = await post(url, {model: 'gpt-4o-mini', input: 'use the tools', tools: TOOLS})
    expect(first.status, first.text).toBe(200)
    const calls = first.json().output.filter((i: {type: string}) => i.type === 'function_call')
    expect(calls.map((c: {call_id: string}) => c.call_id)).toEqual(['call_w1', 'call_t2'])
    const second = await post(url, {
      model: 'gpt-4o-mini',
      previous_response_id: first.json().id,
      tools: TOOLS,
      input: [
        {type: 'function_call_output', call_id: 'call_w1', output: '21°C'},
        {type: 'function_call_output', call_id: 'call_t2', output: '14:00'},
      ],
    })
    expect(second.status, second.text).toBe(200)
    expect(outputText(second.json())).toBe('oa: tool result: 21°C | 14:00')
    const messages = fake.requests.at(-1)!.body.messages
    expect(messages.map((m: {role: string}) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool'])
    expect(messages[1].tool_calls.map((c: {id: string}) => c.id)).toEqual(['call_w1', 'call_t2'])
    expect(messages.slice(2).map((m: {tool_call_id: string}) => m.tool_call_id)).toEqual(['call_w1', 'call_t2'])
  })

  it('an unknown id gets OpenAI’s own 400, the upstream is not asked, and the request is logged', async () => {
    const before = fake.count
    for (const stream of [false, true]) {
      const answer = await post(url, {model: 'gpt-4o-mini', previous_response_id: 'resp_nope', input: 'x', stream})
      expect(answer.status).toBe(400)
      expect(answer.json()).toEqual(notFound('resp_nope'))
    }
    expect(fake.count).toBe(before)
    expect(proxy.records.at(-1)).toMatchObject({protocol: 'responses', status: 400, type: 'openai-custom'})
  })

  it('store:false answers are not kept; default ones are, and GET/DELETE find them until deleted', async () => {
    const unstored = await post(url, {model: 'gpt-4o-mini', input: 'forget me', store: false})
    const unstoredId = unstored.json().id
    const followUp = await post(url, {model: 'gpt-4o-mini', previous_response_id: unstoredId, input: 'x'})
    expect(followUp.status).toBe(400)
    expect(followUp.json()).toEqual(notFound(unstoredId))
    expect((await get(`${proxy.url}/v1/responses/${unstoredId}`)).status).toBe(404)

    const stored = await post(url, {model: 'gpt-4o-mini', input: 'keep me'})
    const id = stored.json().id
    const client = new OpenAI({apiKey: 'x', baseURL: `${proxy.url}/v1`, maxRetries: 0})
    // The SDK adds its `output_text` convenience to what the server sent.
    expect(await client.responses.retrieve(id)).toEqual({...stored.json(), output_text: 'oa: keep me'})
    const streamed = await post(url, {model: 'gpt-4o-mini', input: 'keep me too', stream: true})
    const streamedId = streamedResponse(streamed.text).id
    expect((await get(`${proxy.url}/openai-custom/v1/responses/${streamedId}`)).json()).toEqual(
      streamedResponse(streamed.text),
    )

    const deleted = await del(`${proxy.url}/v1/responses/${id}`)
    expect(deleted.status).toBe(200)
    expect(deleted.json()).toEqual({id, object: 'response', deleted: true})
    const gone = await get(`${proxy.url}/v1/responses/${id}`)
    expect(gone.status).toBe(404)
    expect(gone.json()).toEqual({
      error: {message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null},
    })
    expect((await del(`${proxy.url}/v1/responses/${id}`)).status).toBe(404)
    const afterDelete = await post(url, {model: 'gpt-4o-mini', previous_response_id: id, input: 'x'})
    expect(afterDelete.json()).toEqual(notFound(id))
  })
})

describe('previous_response_id on openaiResponses-custom with two instances', () => {
  let fakes: FakeUpstream[]
  let proxy: TestProxy
  let url: string
  beforeAll(async () => {
    fakes = await Promise.all([startResponsesFake({name: 'a'}), startResponsesFake({name: 'b'})])
    proxy = await startTestProxy({'openaiResponses-custom': fakes.map((f) => openaiInstance(f, f.name))})
    url = `${proxy.url}/openaiResponses-custom/v1/responses`
  })
  afterAll(async () => {
    await proxy.cleanup()
    await Promise.all(fakes.map((f) => f.close()))
  })

  /** A first turn, and the fake and pool instance that answered it. */
  async function firstTurn(body: Record<string, unknown>) {
    const before = fakes.map((f) => f.count)
    const first = await post(url, {model: 'gpt-5.4', ...body})
    expect(first.status, first.text).toBe(200)
    const holder = fakes.find((f, i) => f.count === before[i]! + 1)!
    const other = fakes.find((f) => f !== holder)!
    const live = proxy.state.list('openaiResponses-custom').find((l) => l.config.name === holder.name)!
    return {response: first.json(), holder, other, live}
  }

  it('the follow-up goes as sent to the instance that made the response, many times over', async () => {
    const {response, holder, other} = await firstTurn({input: 'first'})
    const untouched = other.count
    let previous = response.id
    for (const input of ['second', 'third', 'fourth']) {
      const answer = await post(url, {model: 'gpt-5.4', previous_response_id: previous, input})
      expect(answer.status, answer.text).toBe(200)
      expect(answer.json().previous_response_id).toBe(previous)
      expect(holder.requests.at(-1)!.body).toEqual({model: 'gpt-5.4', previous_response_id: previous, input})
      previous = answer.json().id
    }
    expect(other.count).toBe(untouched)
  })

  it('a tool round trip by previous_response_id reaches the holder, which knows the calls', async () => {
    for (const f of fakes) f.script.queue.push({kind: 'reply', reply: CALLS})
    const {response, holder} = await firstTurn({input: 'use the tools', tools: TOOLS})
    for (const f of fakes) f.script.queue.length = 0
    const second = await post(url, {
      model: 'gpt-5.4',
      previous_response_id: response.id,
      input: [
        {type: 'function_call_output', call_id: 'call_w1', output: '21°C'},
        {type: 'function_call_output', call_id: 'call_t2', output: '14:00'},
      ],
    })
    expect(second.status, second.text).toBe(200)
    expect(outputText(second.json())).toBe(`${holder.name}: tool result: 21°C | 14:00`)
  })

  for (const trouble of ['cooling', 'unhealthy'] as const) {
    it(`when the holder is ${trouble}, the other instance gets the history spelled out`, async () => {
      const {response, holder, other, live} = await firstTurn({input: 'first'})
      if (trouble === 'cooling') proxy.state.cool(live, 60_000, 'rate limited')
      else proxy.state.markUnhealthy(live, 'test')
      try {
        const answer = await post(url, {model: 'gpt-5.4', previous_response_id: response.id, input: 'second'})
        expect(answer.status, answer.text).toBe(200)
        expect(holder.requests.at(-1)!.body.input).toBe('first')
        const sent = other.requests.at(-1)!.body
        expect(sent).not.toHaveProperty('previous_response_id')
        expect(sent.input).toEqual([
          {type: 'message', role: 'user', content: [{type: 'input_text', text: 'first'}]},
          ...response.output,
          {type: 'message', role: 'user', content: [{type: 'input_text', text: 'second'}]},
        ])
        expect(outputText(answer.json())).toBe(`${other.name}: second`)
      } finally {
        proxy.state.markHealthy(live)
      }
    })
  }
})

describe('store limits from config.json', () => {
  let fake: FakeUpstream
  let proxy: TestProxy
  let skew = 0
  beforeAll(async () => {
    fake = await startOpenAIFake({name: 'oa'})
    proxy = await startTestProxy(
      {'openai-custom': [openaiInstance(fake, 'oa')]},
      {config: {RESPONSES_STORE_MAX_ENTRIES: 2, RESPONSES_STORE_TTL_MINUTES: 5}, now: () => Date.now() + skew},
    )
  })
  afterAll(async () => {
    await proxy.cleanup()
    await fake.close()
  })

  const ask = async (body: Record<string, unknown>) =>
    post(`${proxy.url}/openai-custom/v1/responses`, {model: 'gpt-4o-mini', ...body})

  it('RESPONSES_STORE_MAX_ENTRIES: the oldest response goes when a third is kept', async () => {
    const ids: string[] = []
    for (const input of ['one', 'two', 'three']) ids.push((await ask({input})).json().id)
    expect((await ask({previous_response_id: ids[0], input: 'x'})).status).toBe(400)
    for (const id of ids.slice(1)) expect((await get(`${proxy.url}/v1/responses/${id}`)).status).toBe(200)
  })

  it('RESPONSES_STORE_TTL_MINUTES: a response can be continued until then, not after', async () => {
    const id = (await ask({input: 'soon gone'})).json().id
    skew += 5 * 60_000 - 1000
    expect((await ask({previous_response_id: id, input: 'x', store: false})).status).toBe(200)
    skew += 1000
    expect((await ask({previous_response_id: id, input: 'x'})).json()).toEqual(notFound(id))
  })
})

describe('response ids on converted types', () => {
  let fakes: FakeUpstream[]
  let proxy: TestProxy
  beforeAll(async () => {
    // Two upstreams that number their answers alike: ids an upstream makes are unique to it at best.
    fakes = await Promise.all([startOpenAIFake({name: 'a'}), startOpenAIFake({name: 'b'})])
    proxy = await startTestProxy({'openai-custom': fakes.map((f) => openaiInstance(f, f.name))})
  })
  afterAll(async () => {
    await proxy.cleanup()
    await Promise.all(fakes.map((f) => f.close()))
  })

  it('are the server’s own, so a follow-up continues its own conversation whichever upstream answered', async () => {
    const url = `${proxy.url}/openai-custom/v1/responses`
    const answers = []
    for (const stream of [false, true, false, true]) {
      const answer = await post(url, {model: 'gpt-4o-mini', input: `question ${answers.length}`, stream})
      answers.push(stream ? streamedResponse(answer.text) : answer.json())
    }
    // Both upstreams answered twice, each numbering its answers from 0 in the same way.
    expect(fakes.map((f) => f.count)).toEqual([2, 2])
    const ids = answers.map((a) => a.id)
    expect(new Set(ids).size).toBe(4)
    for (const id of ids) expect(id).toMatch(/^resp_[0-9a-f]{32}$/)
    for (const [n, id] of ids.entries()) {
      const before = fakes.map((f) => f.count)
      const followUp = await post(url, {model: 'gpt-4o-mini', previous_response_id: id, input: 'and?'})
      expect(followUp.status, followUp.text).toBe(200)
      const asked = fakes.find((f, i) => f.count > before[i]!)!
      const [question, answer] = asked.requests.at(-1)!.body.messages
      expect([chatText(question), chatText(answer)]).toEqual([`question ${n}`, answers[n].output[0].content[0].text])
    }
  })
})
