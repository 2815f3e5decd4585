// Every Responses request is one RequestRecord: what the serve log writes a line for and the board lists and counts.
// Routes the server does not serve are answered 404 in the client's protocol, never as a missing model, and logged.
import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {request} from 'undici'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {formatRecord} from '../../src/core/log.js'
import {buildRows} from '../../src/ui/board/model.js'
import {StatusBoard} from '../../src/ui/board/StatusBoard.js'
import {startOpenAIFake, startResponsesFake, type FakeUpstream} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, testAgent, type TestProxy} from '../helpers/proxy.js'

let proxy: TestProxy
let fakes: FakeUpstream[]

beforeAll(async () => {
  fakes = await Promise.all([startOpenAIFake({name: 'oa'}), startResponsesFake({name: 'rs'})])
  proxy = await startTestProxy({
    'openai-custom': [openaiInstance(fakes[0]!, 'oa')],
    'openaiResponses-custom': [openaiInstance(fakes[1]!, 'rs')],
  })
})

afterAll(async () => {
  await proxy.cleanup()
  await Promise.all(fakes.map((f) => f.close()))
})

/** The records one request left. */
async function recordsOf(send: () => Promise<unknown>) {
  const before = proxy.records.length
  await send()
  return proxy.records.slice(before)
}

describe('routes the server does not serve', () => {
  const OPENAI_404 = (path: string, method = 'POST') => ({
    error: {message: `Unknown route ${method} ${path}.`, type: 'invalid_request_error', param: null, code: null},
  })

  it.each([
    ['POST', '/v1/embeddingz', 'openai'],
    ['POST', '/claude-custom/v1/whatever', 'openai'],
    ['POST', '/v1/responses/resp_1/cancel', 'responses'],
    ['PUT', '/v1/responses', 'responses'],
    ['POST', '/openaiResponses-custom/v1/responses/input_items', 'responses'],
  ])('%s %s: 404 in OpenAI’s words with code null, and a record', async (method, path, protocol) => {
    let answer: {status: number; body: any} | undefined
    const records = await recordsOf(async () => {
      const response = await request(`${proxy.url}${path}`, {
        method: method as 'POST',
        headers: {'content-type': 'application/json'},
        body: '{"model":"gpt-4o-mini","input":"hi"}',
        dispatcher: testAgent,
      })
      answer = {status: response.statusCode, body: await response.body.json()}
    })
    expect(answer).toEqual({status: 404, body: OPENAI_404(path, method)})
    expect(records).toEqual([
      expect.objectContaining({route: path, protocol, type: null, instance: null, status: 404, attempts: 0}),
    ])
    expect(formatRecord(records[0]!)).toMatch(new RegExp(`^\\S+Z ${path} - - 404 \\d+ms error="Unknown route`))
  })

  it('an Anthropic or Gemini path gets its own protocol’s 404, still not a missing model', async () => {
    const anthropic = await post(`${proxy.url}/v1/messages/batches`, {})
    expect(anthropic.status).toBe(404)
    expect(anthropic.json()).toMatchObject({type: 'error', error: {type: 'not_found_error'}})
    const gemini = await post(`${proxy.url}/v1beta/models/gemini-2.5-flash:predictLongRunning`, {})
    expect(gemini.status).toBe(404)
    expect(gemini.json()).toMatchObject({error: {code: 404, status: 'NOT_FOUND'}})
    expect(proxy.records.slice(-2).map((r) => [r.protocol, r.status])).toEqual([
      ['anthropic', 404],
      ['gemini', 404],
    ])
  })
})

describe('Responses requests in the log and on the board', () => {
  it('one record with protocol responses per request, of every kind, each a log line naming its route', async () => {
    const requests: Array<[string, Record<string, unknown>, number]> = [
      ['/openai-custom/v1/responses', {input: 'hi'}, 200],
      ['/openai-custom/v1/responses', {input: 'hi', stream: true}, 200],
      ['/openaiResponses-custom/v1/responses', {input: 'hi'}, 200],
      ['/openaiResponses-custom/v1/responses', {input: 'hi', stream: true}, 200],
      ['/openai-custom/v1/responses/compact', {input: 'hi'}, 200],
      ['/openaiResponses-custom/v1/responses/compact', {input: 'hi'}, 200],
      ['/openai-custom/v1/responses', {input: 'hi', previous_response_id: 'resp_gone'}, 400],
    ]
    const lines: string[] = []
    for (const [path, body, status] of requests) {
      let got = 0
      const records = await recordsOf(async () => {
        got = (await post(`${proxy.url}${path}`, {model: 'gpt-5.4', ...body})).status
      })
      expect(got, path).toBe(status)
      const type = path.split('/')[1]
      expect(records, path).toEqual([expect.objectContaining({route: path, protocol: 'responses', type, status})])
      lines.push(formatRecord(records[0]!))
    }
    for (const [i, [path, , status]] of requests.entries()) {
      const type = path.split('/')[1]!
      const instance = type === 'openai-custom' ? 'oa' : 'rs'
      const where = status === 200 ? `${type} ${instance}` : `${type} -`
      expect(lines[i]).toMatch(new RegExp(`^\\S+Z ${path} ${where} ${status} \\d+ms`))
    }

    // The board lists what the log wrote, and counts each.
    const recent = proxy.records.slice(-requests.length)
    const now = Date.now()
    const data = {
      ...{
        url: proxy.url,
        startedAt: now,
        now,
        requestsPerSecond: 0,
        tokensPerSecond: 0,
        total: recent.length,
        failed: 0,
        message: null,
      },
      rows: buildRows(proxy.state, now),
      recent,
    }
    const board = render(
      createElement(StatusBoard, {data, width: 140, height: 30, selected: null, filter: null, help: false}),
    )
    const frame = (board.lastFrame() ?? '').replace(/\u001B\[[0-9;]*m/g, '')
    board.unmount()
    expect(frame.match(/responses → openai-custom\/oa gpt-5\.4 200/g)).toHaveLength(3)
    expect(frame.match(/responses → openaiResponses-custom\/rs gpt-5\.4 200/g)).toHaveLength(3)
    expect(frame).toMatch(/responses → openai-custom\/- gpt-5\.4 400/)
  })
})
