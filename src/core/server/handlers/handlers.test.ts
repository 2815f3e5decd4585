import {ResponseStore} from '../responses/memory.js'
import type {ServerResponse} from 'node:http'
import {describe, expect, it} from 'vitest'
import {codecs} from '../../codecs/index.js'
import type {PoolState} from '../../pools/pool-state.js'
import type {ProviderType} from '../../pools/types.js'
import {FALLBACK_MODELS} from '../../providers/models.js'
import type {ClientRequest, HandlerDeps} from '../handler.js'
import type {Route} from '../routes.js'
import {chat} from './chat.js'
import {countTokens} from './count-tokens.js'
import {health} from './health.js'
import {models} from './models.js'

/** A pool of `healthy` and `cooling` instances per type, where no instance is ever picked for a side request. */
function pool(instances: Partial<Record<ProviderType, Array<'healthy' | 'cooling'>>>): PoolState {
  const types = Object.keys(instances) as ProviderType[]
  return {
    types: () => types,
    list: (type: ProviderType) => (instances[type] ?? []).map((state) => ({state})),
    stateOf: (live: {state: string}) => live.state,
    pick: () => undefined,
  } as unknown as PoolState
}

function deps(state: PoolState, overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  const now = () => 61_000
  return {
    state,
    adapters: {},
    codecs,
    now,
    started: 1000,
    proxy: {state, adapters: {}, codecs, now, maxAttempts: 3},
    responseLimitBytes: 1 << 20,
    errorBodyLimitBytes: 1 << 16,
    responses: new ResponseStore(),
    ...overrides,
  }
}

function request<R extends Route>(
  route: R,
  options: {headers?: Record<string, string>; body?: unknown; typePrefix?: ProviderType} = {},
): ClientRequest<R> {
  const body =
    options.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body))
  return {
    route,
    pathname: '/',
    headers: options.headers ?? {},
    body,
    typePrefix: options.typePrefix,
    res: undefined as unknown as ServerResponse,
  }
}

describe('the server handlers, without a socket', () => {
  it('health counts the healthy instances of each type and the uptime', async () => {
    const reply = await health(
      deps(pool({'openai-custom': ['healthy', 'cooling'], 'claude-custom': ['healthy']})),
      request({kind: 'health'}),
    )
    expect(reply).toEqual({
      kind: 'json',
      status: 200,
      body: {
        status: 'ok',
        uptimeSeconds: 60,
        types: {'openai-custom': {healthy: 1, total: 2}, 'claude-custom': {healthy: 1, total: 1}},
      },
    })
  })

  it('models lists the built-in models of the type the header names, in the protocol of the route', async () => {
    const reply = await models(
      deps(pool({'openai-custom': ['healthy'], 'claude-custom': ['healthy']})),
      request({kind: 'models', protocol: 'auto'}, {headers: {'model-provider': 'claude-custom'}}),
    )
    expect(reply).toEqual({kind: 'json', status: 200, body: codecs.openai.modelList(FALLBACK_MODELS['claude-custom'])})
  })

  it('models prefixes each id with its type when several types answer', async () => {
    const reply = await models(
      deps(pool({'openai-custom': ['healthy'], 'claude-custom': ['healthy']})),
      request({kind: 'models', protocol: 'auto'}, {headers: {'anthropic-version': '2023-06-01'}}),
    )
    const ids = [
      ...FALLBACK_MODELS['openai-custom'].map((id) => `openai-custom:${id}`),
      ...FALLBACK_MODELS['claude-custom'].map((id) => `claude-custom:${id}`),
    ]
    expect(reply).toEqual({kind: 'json', status: 200, body: codecs.anthropic.modelList(ids)})
  })

  it('models refuses an unknown Model-Provider header even with a path prefix', async () => {
    const attempt = models(
      deps(pool({'openai-custom': ['healthy']})),
      request({kind: 'models', protocol: 'auto'}, {headers: {'model-provider': 'nope'}, typePrefix: 'openai-custom'}),
    )
    await expect(attempt).rejects.toMatchObject({
      name: 'HttpError',
      status: 400,
      message: expect.stringContaining('"nope"'),
    })
  })

  it('count_tokens estimates when no upstream can count', async () => {
    const body = {
      model: 'claude-custom:claude-sonnet-4-6',
      max_tokens: 5,
      messages: [{role: 'user', content: 'a'.repeat(400)}],
    }
    const reply = await countTokens(
      deps(pool({'claude-custom': ['healthy'], 'openai-custom': ['healthy']})),
      request({kind: 'count_tokens'}, {body}),
    )
    expect(reply).toMatchObject({kind: 'json', status: 200, headers: {'x-aiclient-token-count': 'estimate'}})
    expect(reply.kind === 'json' && (reply.body as {input_tokens: number}).input_tokens).toBeGreaterThanOrEqual(100)
  })

  it.each<[string, unknown, RegExp]>([
    ['a body that is no JSON', '{"model":', /not valid JSON/],
    ['a non-boolean stream', {model: 'm', stream: 'yes', messages: []}, /"stream" must be true or false/],
    ['no model', {messages: []}, /no "model"/],
  ])('count_tokens and chat refuse %s with a 400 before any upstream is asked', async (_name, body, message) => {
    const state = pool({'claude-custom': ['healthy']})
    await expect(countTokens(deps(state), request({kind: 'count_tokens'}, {body}))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(message),
    })
    await expect(chat(deps(state), request({kind: 'chat', protocol: 'anthropic'}, {body}))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(message),
    })
  })
})
