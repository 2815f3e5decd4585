import {describe, expect, it} from 'vitest'
import {codecs} from '../codecs/index.js'
import type {PoolInstance} from '../pools/types.js'
import {protocolExchange, type BodyInput} from './exchange.js'

const instance = {} as PoolInstance
const clientJson = {model: 'claude-x', max_tokens: 5, messages: [{role: 'user', content: 'hi'}]}
const clientBody = Buffer.from(JSON.stringify(clientJson))

function input(fields: Partial<BodyInput> = {}): BodyInput {
  const ir = codecs.anthropic.decodeRequest(clientJson)
  return {
    clientProtocol: 'anthropic',
    clientJson,
    clientBody,
    modelRewritten: false,
    ir: () => ir,
    model: 'claude-x',
    stream: false,
    ...fields,
  }
}

describe('the default exchange of a protocol', () => {
  it('passes the client bytes through untouched when the client speaks the protocol', async () => {
    const body = await protocolExchange('anthropic').bodies(input())(instance)
    expect(body.body).toBe(clientBody)
  })

  it('rewrites only the model when a type prefix was removed from it', async () => {
    const body = await protocolExchange('anthropic').bodies(input({modelRewritten: true, model: 'plain'}))(instance)
    expect(JSON.parse(String(body.body))).toEqual({...clientJson, model: 'plain'})
  })

  it('converts a request in another protocol once, for every attempt', async () => {
    let decoded = 0
    const ir = codecs.anthropic.decodeRequest(clientJson)
    const bodies = protocolExchange('openai').bodies(input({ir: () => (decoded++, ir)}))
    const [first, second] = [await bodies(instance), await bodies(instance)]
    expect(JSON.parse(String(first.body))).toMatchObject({model: 'claude-x', messages: [{role: 'user', content: 'hi'}]})
    expect(second.body).toBe(first.body)
    expect(decoded).toBe(1)
  })

  it('classifies with the adapter first and the common table for what it leaves', () => {
    const exchange = protocolExchange('openai', {
      classify: (status) => (status === 403 ? {kind: 'quota', retryAfterMs: 5} : undefined),
    })
    expect(exchange.classify(403, {}, '', 0)).toEqual({kind: 'quota', retryAfterMs: 5})
    expect(exchange.classify(429, {'retry-after': '2'}, '', 0)).toEqual({kind: 'rate_limited', retryAfterMs: 2000})
    expect(exchange.classify(400, {}, '', 0)).toEqual({kind: 'client_fault'})
  })
})
