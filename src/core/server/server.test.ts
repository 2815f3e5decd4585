import {request} from 'undici'
import {afterEach, describe, expect, it} from 'vitest'
import {codecs} from '../codecs/index.js'
import {PoolState} from '../pools/pool-state.js'
import {protocolExchange} from '../providers/exchange.js'
import type {ProviderAdapter} from '../providers/types.js'
import {rememberSecrets} from '../secrets.js'
import {ProxyServer} from './server.js'

const SECRET = 'sk-ant-internal-defect-7c1d2e3f4a5b'

/** A pool whose selection throws: a defect of ours, reached by an ordinary request. */
class BrokenState extends PoolState {
  override acquire(): never {
    throw new Error(`selection broke while holding ${SECRET}`)
  }
}

const adapter = {
  type: 'claude-custom',
  protocol: 'anthropic',
  passthrough: true,
  exchange: protocolExchange('anthropic'),
} as unknown as ProviderAdapter

let server: ProxyServer | undefined
afterEach(async () => {
  await server?.close(0)
  server = undefined
})

describe('an unexpected failure inside the server', () => {
  it('answers 500 in the client protocol, with no secret the exception quoted', async () => {
    rememberSecrets('test/internal-defect', [SECRET])
    server = new ProxyServer({
      state: new BrokenState(),
      adapters: {'claude-custom': adapter},
      codecs,
      defaultType: 'claude-custom',
    })
    const {port} = await server.listen(0, '127.0.0.1')
    const body = JSON.stringify({model: 'm', max_tokens: 5, messages: [{role: 'user', content: 'hi'}]})
    const response = await request(`http://127.0.0.1:${port}/v1/messages`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body,
    })
    const text = await response.body.text()
    expect(response.statusCode).toBe(500)
    const json = JSON.parse(text)
    // Anthropic's SDK reads `type: "error"` and `error.type`; a bare `{error: {message}}` is not its shape.
    expect(json).toMatchObject({type: 'error', error: {type: 'api_error'}})
    expect(json.error.message).toContain('selection broke')
    expect(text).not.toContain(SECRET)
  })
})
