import {createServer, type Server} from 'node:http'
import {connect, type AddressInfo} from 'node:net'
import {afterEach, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

let fake: FakeUpstream | undefined
const h = useProxyHarness()
let forwardProxy: Server | undefined
const savedEnv = {...process.env}

afterEach(async () => {
  forwardProxy?.closeAllConnections()
  await new Promise((r) => forwardProxy?.close(r) ?? r(undefined))
  process.env = {...savedEnv}
})

/** A minimal CONNECT proxy that records which targets it tunnelled to. */
async function startForwardProxy(): Promise<{url: string; targets: string[]}> {
  const targets: string[] = []
  forwardProxy = createServer()
  forwardProxy.on('connect', (req, client, head) => {
    targets.push(req.url ?? '')
    const [host, port] = (req.url ?? '').split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => forwardProxy!.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(forwardProxy.address() as AddressInfo).port}`, targets}
}

const chat = (url: string) =>
  post(`${url}/v1/chat/completions`, {model: 'm', messages: [{role: 'user', content: 'hi'}]})

it('a per-instance PROXY_URL carries that instance’s traffic', async () => {
  fake = await startOpenAIFake({name: 'up'})
  h.fakes = [fake]
  const forward = await startForwardProxy()
  h.proxy = await startTestProxy({'openai-custom': [{...openaiInstance(fake, 'up'), PROXY_URL: forward.url}]})
  expect((await chat(h.proxy.url)).status).toBe(200)
  expect(forward.targets).toEqual([`127.0.0.1:${fake.port}`])
})

it('HTTPS_PROXY/HTTP_PROXY from the environment are honoured, and NO_PROXY exempts hosts', async () => {
  fake = await startOpenAIFake({name: 'up'})
  h.fakes = [fake]
  const forward = await startForwardProxy()
  process.env.HTTP_PROXY = forward.url
  process.env.HTTPS_PROXY = forward.url
  delete process.env.NO_PROXY
  delete process.env.no_proxy
  h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
  expect((await chat(h.proxy.url)).status).toBe(200)
  expect(forward.targets).toHaveLength(1)
  await h.proxy.cleanup()
  process.env.NO_PROXY = '127.0.0.1'
  h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
  expect((await chat(h.proxy.url)).status).toBe(200)
  expect(forward.targets).toHaveLength(1)
})
