import {ServerResponse, type OutgoingHttpHeaders} from 'node:http'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {parseSse, startOpenAIFake} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const h = useProxyHarness()
afterEach(async () => {
  vi.restoreAllMocks()
})

const chat = (stream: boolean) =>
  post(`${h.proxy!.url}/v1/chat/completions`, {model: 'm', stream, messages: [{role: 'user', content: 'hi'}]})

describe('instance names outside Latin-1 reach the client encoded', () => {
  const names = ['工作账号', 'rocket 🚀', '50% off', 'tab\tand\u0007bell', 'café']
  for (const name of names) {
    it(JSON.stringify(name), async () => {
      const fake = await startOpenAIFake({name: 'up'})
      h.fakes = [fake]
      h.proxy = await startTestProxy({'openai-custom': [{...openaiInstance(fake, 'x'), customName: name}]})
      for (const stream of [false, true]) {
        const answer = await chat(stream)
        expect(answer.status).toBe(200)
        const header = String(answer.headers['x-aiclient-instance'])
        expect(header).toMatch(/^[\x20-\x7e]+$/)
        expect(decodeURIComponent(header)).toBe(name)
        if (stream) expect(parseSse(answer.text).events.at(-1)!.data).toBe('[DONE]')
      }
      expect(fake.completed).toBe(2)
      expect(h.proxy.state.list()[0]!.usageCount).toBe(2)
    })
  }

  it('plain ASCII names go as they are', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'work-1')]})
    expect((await chat(false)).headers['x-aiclient-instance']).toBe('work-1')
  })
})

describe('a failure after the upstream answered closes the upstream', () => {
  it('a stream whose answer to the client cannot be started does not keep the model generating', async () => {
    // The failure the issue saw, whatever causes it: the client's headers cannot be written.
    const writeHead = ServerResponse.prototype.writeHead
    vi.spyOn(ServerResponse.prototype, 'writeHead').mockImplementation(function (
      this: ServerResponse,
      status: number,
      ...rest: unknown[]
    ) {
      const headers = rest.find((arg) => typeof arg === 'object') as OutgoingHttpHeaders | undefined
      if (headers && 'x-aiclient-instance' in headers)
        throw Object.assign(new TypeError('Invalid character in header content'), {code: 'ERR_INVALID_CHAR'})
      return (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...rest)
    } as typeof writeHead)
    // Forty events 50 ms apart: two seconds of generation if nobody hangs up.
    const fake = await startOpenAIFake({
      name: 'up',
      paceMs: 50,
      script: {fallback: {kind: 'reply', reply: {text: 'x'.repeat(40), chunkSize: 1}}},
    })
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
    const started = Date.now()
    expect((await chat(true)).status).toBe(500)
    await fake.waitFor(() => fake.aborted === 1, 1000)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(fake.completed).toBe(0)
  })
})
