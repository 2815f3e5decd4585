import {Readable} from 'node:stream'
import type {Dispatcher} from 'undici'
import {describe, expect, it} from 'vitest'
import {codecs} from '../codecs/index.js'
import type {ClientSink} from '../http/client-sink.js'
import {DEFAULT_HEALTH_POLICY, PoolState} from '../pools/pool-state.js'
import {instancesOf} from '../pools/schema.js'
import {protocolExchange} from '../providers/exchange.js'
import type {ProviderAdapter} from '../providers/types.js'
import {proxyRequest} from './proxy.js'
import type {ClientCall} from './types.js'

/**
 * The attempt loop without sockets: the upstream is a scripted exchange `send`, the client an in-memory sink.
 * Socket-level behaviour stays covered by test/serve and test/faults; this checks the loop's wiring.
 */
const NOW = Date.parse('2026-12-03T12:00:00Z')

type Reply = {status: number; headers?: Record<string, string>; body: string} | {error: string}

function setup(replies: Reply[]) {
  const sent: string[] = []
  const send = async (call: {url: string}): Promise<Dispatcher.ResponseData> => {
    sent.push(call.url)
    const reply = replies.shift()!
    if ('error' in reply) throw Object.assign(new Error(reply.error), {code: reply.error})
    return {
      statusCode: reply.status,
      headers: {'content-type': 'application/json', ...reply.headers},
      body: Readable.from([Buffer.from(reply.body)]),
    } as unknown as Dispatcher.ResponseData
  }
  const adapter: ProviderAdapter = {
    type: 'openai-custom',
    protocol: 'openai',
    passthrough: true,
    exchange: {...protocolExchange('openai'), send},
    prepare: async (instance) => ({
      url: `http://${instance.name}/chat/completions`,
      headers: {},
      dispatcher: undefined as never,
    }),
  }
  const state = new PoolState(DEFAULT_HEALTH_POLICY, () => NOW)
  state.sync(
    instancesOf(
      {'openai-custom': ['a', 'b'].map((name) => ({customName: name, uuid: `${name}-uuid`, OPENAI_API_KEY: 'k'}))},
      '/tmp',
    ),
  )
  const deps = {state, adapters: {'openai-custom': adapter}, codecs, now: () => NOW, maxAttempts: 3}
  return {sent, state, deps}
}

function memorySink() {
  const out = {status: 0, headers: {} as Record<string, string>, body: ''}
  const sink: ClientSink = {
    get started() {
      return out.status !== 0
    },
    gone: false,
    send(status, headers, body) {
      Object.assign(out, {status, headers, body: String(body)})
    },
    start(status, headers) {
      if (out.status === 0) Object.assign(out, {status, headers})
    },
    write(chunk) {
      out.body += String(chunk)
      return undefined
    },
    end(chunk) {
      if (chunk !== undefined) out.body += String(chunk)
    },
    onGone: () => () => {},
  }
  return {sink, out}
}

const json = {model: 'm', messages: [{role: 'user', content: 'hi'}]}
const call: ClientCall = {
  route: '/v1/chat/completions',
  protocol: 'openai',
  type: 'openai-custom',
  body: Buffer.from(JSON.stringify(json)),
  json,
  model: 'm',
  modelRewritten: false,
  stream: false,
  headers: {},
}
const ANSWER = JSON.stringify({
  id: 'x',
  object: 'chat.completion',
  choices: [{index: 0, message: {role: 'assistant', content: 'ok'}, finish_reason: 'stop'}],
})

describe('the attempt loop over a client sink', () => {
  it('a 429 cools its instance for Retry-After and the next instance answers', async () => {
    const {sent, state, deps} = setup([
      {status: 429, headers: {'retry-after': '2'}, body: '{}'},
      {status: 200, body: ANSWER},
    ])
    const {sink, out} = memorySink()
    const record = await proxyRequest(deps, call, sink)
    expect(sent).toEqual(['http://a/chat/completions', 'http://b/chat/completions'])
    expect([out.status, out.headers['x-aiclient-instance'], out.body]).toEqual([200, 'b', ANSWER])
    expect([record.status, record.attempts, record.instance]).toEqual([200, 2, 'b'])
    const [a, b] = state.list('openai-custom')
    expect(a!.cooldownUntil).toBe(NOW + 2000)
    expect([a!.errorCount, b!.usageCount]).toEqual([0, 1])
  })

  it('a timeout after sending is answered 504 and never resent', async () => {
    const {sent, state, deps} = setup([{error: 'UND_ERR_HEADERS_TIMEOUT'}, {status: 200, body: ANSWER}])
    const {sink, out} = memorySink()
    const record = await proxyRequest(deps, call, sink)
    expect(sent).toEqual(['http://a/chat/completions'])
    expect([out.status, out.headers['x-should-retry'], record.status]).toEqual([504, 'false', 504])
    expect(state.list('openai-custom').map((live) => live.errorCount)).toEqual([1, 0])
  })

  it('a client fault is relayed as the upstream said it, and counts against no instance', async () => {
    const {sent, state, deps} = setup([{status: 400, body: '{"error":{"message":"bad"}}'}])
    const {sink, out} = memorySink()
    await proxyRequest(deps, call, sink)
    expect(sent).toHaveLength(1)
    expect([out.status, out.body]).toEqual([400, '{"error":{"message":"bad"}}'])
    expect(state.list('openai-custom').map((live) => [live.errorCount, live.cooldownUntil, live.healthy])).toEqual([
      [0, 0, true],
      [0, 0, true],
    ])
  })
})
