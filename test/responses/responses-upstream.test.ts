// Responses clients served by `openaiResponses-custom` instances through the real proxy: the client's bytes and the
// upstream's answer pass through untouched, and the pool's health rules apply as to every other type.
import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {describe, expect, it} from 'vitest'
import {buildRows} from '../../src/ui/board/model.js'
import {StatusBoard} from '../../src/ui/board/StatusBoard.js'
import {startResponsesFake, type Behaviour, type FakeUpstream} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const TYPE = 'openaiResponses-custom'
const h = useProxyHarness({failOnUnhandledRejection: true})

/** A body with spacing and key order of its own: any re-serialisation on the way would show. */
const body = (stream: boolean) =>
  `{"input":[{"role":"user","content":[{"type":"input_text","text":"héllo 🌍"}]}],  "model":"gpt-5.4",\n"stream":${stream},"store":false, "x_unknown":{"kept":1}}`

/** What the fake answers that body directly: the reference the proxied answer must equal byte for byte. */
async function directAnswer(fake: FakeUpstream, text: string, behaviour: Behaviour): Promise<string> {
  fake.reset()
  fake.enqueue(behaviour)
  const answer = await post(`${fake.baseUrl}/responses`, text, {authorization: 'Bearer sk-up-0123456789abcdef'})
  expect(answer.status).toBe(200)
  return answer.text
}

describe('Responses clients over openaiResponses-custom', () => {
  it.each([false, true])('pass through byte for byte (stream: %s)', async (stream) => {
    const fake = await startResponsesFake({name: 'up', keys: ['sk-up-0123456789abcdef']})
    h.fakes = [fake]
    h.proxy = await startTestProxy({[TYPE]: [openaiInstance(fake, 'up')]})
    fake.enqueue({
      kind: 'reply',
      reply: {
        text: 'Checking.',
        toolCalls: [
          {name: 'exec_command', arguments: {cmd: 'ls'}},
          {name: 'exec_command', arguments: {cmd: 'pwd'}},
        ],
        chunkSize: 3,
      },
    })
    const text = body(stream)
    const proxied = await post(`${h.proxy.url}/${TYPE}/v1/responses`, text)
    expect(proxied.status, proxied.text).toBe(200)
    expect(String(proxied.headers['content-type'])).toMatch(stream ? /text\/event-stream/ : /application\/json/)
    expect(fake.requests[0]).toMatchObject({path: '/v1/responses', rawBody: text, key: 'sk-up-0123456789abcdef'})
    expect(proxied.text).toBe(await directAnswer(fake, text, fake.requests[0]!.behaviour!))
    if (stream) expect(proxied.text).toMatch(/^event: response\.created\ndata: /)
    expect(h.proxy.records.at(-1)).toMatchObject({protocol: 'responses', type: TYPE, status: 200})
  })

  it('is the default type when MODEL_PROVIDER names it, on the unprefixed route', async () => {
    const fake = await startResponsesFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({[TYPE]: [openaiInstance(fake, 'up')]}, {defaultType: TYPE})
    const answer = await post(`${h.proxy.url}/v1/responses`, {model: 'gpt-5.4', input: 'hi'})
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json().output[0].content[0].text).toBe('up: hi')
  })

  it('an upstream 429 cools the instance and the request fails over to the next one', async () => {
    const limited = await startResponsesFake({
      name: 'limited',
      script: {fallback: {kind: 'status', status: 429, retryAfter: 30}},
    })
    const good = await startResponsesFake({name: 'good'})
    h.fakes = [limited, good]
    h.proxy = await startTestProxy({[TYPE]: [openaiInstance(limited, 'limited'), openaiInstance(good, 'good')]})
    for (const stream of [false, true]) {
      const answer = await post(`${h.proxy.url}/${TYPE}/v1/responses`, body(stream))
      expect(answer.status, answer.text).toBe(200)
      expect(answer.text).toContain('good: héllo 🌍')
    }
    // The cooled instance was asked once; the second request went straight to the other one.
    expect(limited.count).toBe(1)
    expect(good.count).toBe(2)
    const live = h.proxy.state.list(TYPE).find((l) => l.config.name === 'limited')!
    expect(h.proxy.state.stateOf(live)).toBe('cooling')
    expect(live.cooldownUntil - Date.now()).toBeGreaterThan(25_000)

    // The board shows the type's group, the cooling instance and the requests, like any other type's.
    const now = Date.now()
    const data = {
      ...{
        url: h.proxy.url,
        startedAt: now,
        now,
        requestsPerSecond: 0,
        tokensPerSecond: 0,
        total: 2,
        failed: 0,
        message: null,
      },
      rows: buildRows(h.proxy.state, now),
      recent: h.proxy.records,
    }
    const board = render(
      createElement(StatusBoard, {data, width: 120, height: 20, selected: null, filter: null, help: false}),
    )
    const frame = (board.lastFrame() ?? '').replace(/\u001B\[[0-9;]*m/g, '')
    board.unmount()
    expect(frame).toMatch(/openaiResponses-custom \(1\/2 healthy\)/)
    expect(frame).toMatch(/limited\s+. cooling \d+s/)
    expect(frame).toMatch(/responses → openaiResponses-custom\/good gpt-5\.4 200/)
  })
})
