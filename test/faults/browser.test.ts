import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createServer, request as httpRequest, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {delimiter, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startOpenAIFake, type FakeUpstream} from '../fakes/index.js'
import {envFlag} from '../../src/core/text.js'
import {tempDir} from '../helpers/cli.js'
import {openaiInstance, startTestProxy, type TestProxy} from '../helpers/proxy.js'

/**
 * A web page the user happens to visit must not be able to use a key-less `serve`: not with a request that needs
 * a preflight, not with one that does not (a text/plain POST), and not through a name of its own that resolves to
 * 127.0.0.1 (DNS rebinding).
 */

const CHAT = JSON.stringify({model: 'm', messages: [{role: 'user', content: 'hi from a web page'}]})

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** A raw request, so that Host, Origin and the request target are exactly what a browser or an attacker sends. */
function send(
  port: number,
  options: {method?: string; path?: string; headers?: Record<string, string>; body?: string},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/v1/chat/completions',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, text}))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

let upstream: FakeUpstream
let open: TestProxy
let port: number
const chats = () => upstream.calls('chat.completions').length

beforeAll(async () => {
  upstream = await startOpenAIFake({name: 'up'})
  open = await startTestProxy({'openai-custom': [openaiInstance(upstream, 'up')]})
  port = Number(new URL(open.url).port)
})
afterAll(async () => {
  await open.cleanup()
  await upstream.close()
})

describe('a key-less serve and web pages', () => {
  it('refuses a text/plain POST from another origin, loopback included, before any instance is used', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', 'http://localhost:5173', 'null']) {
      const before = chats()
      const answer = await send(port, {headers: {origin, 'content-type': 'text/plain'}, body: CHAT})
      expect(answer.status, origin).toBe(403)
      expect(JSON.parse(answer.text).error.message).toMatch(/--cors-origin/)
      expect(answer.headers['access-control-allow-origin']).toBeUndefined()
      expect(chats(), origin).toBe(before)
    }
    // In the Anthropic route's own error shape.
    const anthropic = await send(port, {
      path: '/v1/messages',
      headers: {origin: 'https://evil.example', 'content-type': 'text/plain'},
      body: CHAT,
    })
    expect(anthropic.status).toBe(403)
    expect(JSON.parse(anthropic.text)).toMatchObject({type: 'error', error: {type: 'permission_error'}})
  })

  it('refuses the preflight of another origin', async () => {
    const answer = await send(port, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    })
    expect(answer.status).toBe(403)
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('serves clients without an Origin, and its own origin, never with a wildcard', async () => {
    const before = chats()
    const cli = await send(port, {headers: {'content-type': 'application/json'}, body: CHAT})
    expect(cli.status).toBe(200)
    expect(cli.headers['access-control-allow-origin']).toBeUndefined()
    const own = await send(port, {
      headers: {origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json'},
      body: CHAT,
    })
    expect(own.status).toBe(200)
    expect(own.headers['access-control-allow-origin']).toBe(`http://127.0.0.1:${port}`)
    expect(own.headers.vary).toMatch(/origin/i)
    expect(chats()).toBe(before + 2)
  })

  it('refuses a Host that is not a loopback name (DNS rebinding), in the Host header or an absolute-form target', async () => {
    const before = chats()
    for (const host of [`evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `10.0.0.1:${port}`]) {
      const answer = await send(port, {headers: {host, 'content-type': 'text/plain'}, body: CHAT})
      expect(answer.status, host).toBe(403)
      expect(JSON.parse(answer.text).error.message).toMatch(/DNS rebinding/)
      // Even on the same origin as the Host: that is what a rebound page looks like.
      expect((await send(port, {headers: {host, origin: `http://${host}`}, body: CHAT})).status, host).toBe(403)
      expect((await send(port, {method: 'GET', path: '/v1/models', headers: {host}})).status, host).toBe(403)
    }
    const absolute = await send(port, {
      path: `http://evil.example:${port}/v1/chat/completions`,
      headers: {host: `127.0.0.1:${port}`},
      body: CHAT,
    })
    expect(absolute.status).toBe(403)
    expect(chats()).toBe(before)
    // Positive control: every loopback spelling is served.
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `127.1.2.3`,
      `app.localhost:${port}`,
    ]) {
      expect((await send(port, {headers: {host, 'content-type': 'application/json'}, body: CHAT})).status, host).toBe(
        200,
      )
    }
    expect(chats()).toBe(before + 5)
  })
})

describe('a serve with a key', () => {
  let keyed: TestProxy
  let keyedPort: number
  const key = 'browser-test-key-0123456789'
  beforeAll(async () => {
    keyed = await startTestProxy(
      {'openai-custom': [openaiInstance(upstream, 'up')]},
      {apiKey: key, corsOrigins: ['https://app.example']},
    )
    keyedPort = Number(new URL(keyed.url).port)
  })
  afterAll(() => keyed.cleanup())

  it('allows CORS only for the listed origins, echoed, never a wildcard', async () => {
    const listed = await send(keyedPort, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-private-network': 'true',
      },
    })
    expect(listed.status).toBe(204)
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(listed.headers['access-control-allow-private-network']).toBe('true')
    const before = chats()
    const other = await send(keyedPort, {
      headers: {origin: 'http://localhost:5173', authorization: `Bearer ${key}`, 'content-type': 'text/plain'},
      body: CHAT,
    })
    expect(other.status).toBe(403)
    expect(chats()).toBe(before)
  })

  it('serves remote names: the key, not the Host, is the guard', async () => {
    const answer = await send(keyedPort, {
      headers: {host: 'my-server.lan:3000', authorization: `Bearer ${key}`, 'content-type': 'application/json'},
      body: CHAT,
    })
    expect(answer.status).toBe(200)
    expect(
      (await send(keyedPort, {headers: {host: 'my-server.lan:3000', 'content-type': 'application/json'}, body: CHAT}))
        .status,
    ).toBe(401)
  })
})

/** Chromium from Debian's package, or from PATH. */
function findChromium(): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .flatMap((dir) => [join(dir, 'chromium'), join(dir, 'chromium-browser')])
    .find((file) => existsSync(file))
}

const PAGE = `<!doctype html><html><body><pre id="out">pending</pre><script>
const chat = ${JSON.stringify(CHAT)}
async function attempt(name, url, init) {
  try {
    const response = await fetch(url, init)
    return {name, status: response.status, text: (await response.text()).slice(0, 500)}
  } catch (error) {
    return {name, error: String(error)}
  }
}
// Each target is a proxy URL and the key the page sends to it, if any.
const targets = JSON.parse(new URLSearchParams(location.search).get('targets'))
Promise.all(targets.map(({proxy, key}) => Promise.all([
  // Needs no preflight: the browser sends it whatever the server says, and only hides the answer.
  attempt('text/plain', proxy + '/v1/chat/completions' + (key ? '?key=' + encodeURIComponent(key) : ''), {method: 'POST', headers: {'content-type': 'text/plain'}, body: chat}),
  attempt('json', proxy + '/v1/chat/completions', {method: 'POST', headers: Object.assign({'content-type': 'application/json'}, key ? {authorization: 'Bearer ' + key} : {}), body: chat}),
]))).then((results) => { document.getElementById('out').textContent = JSON.stringify(results) })
</script></body></html>`

interface PageResult {
  name: string
  status?: number
  text?: string
  error?: string
}

const chromium = findChromium()
const mustRun = envFlag(process.env.CI)

describe('a real browser', () => {
  let pages: Server
  let pageOrigin: string
  let profile: {dir: string; cleanup: () => Promise<void>}
  beforeAll(async () => {
    pages = createServer((req, res) => {
      res.writeHead(200, {'content-type': 'text/html; charset=utf-8'})
      res.end(PAGE)
    })
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve))
    pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`
    profile = await tempDir('aiclient-chromium-')
  })
  afterAll(async () => {
    await new Promise((resolve) => pages.close(resolve))
    await profile.cleanup()
  })

  /** Loads the page headless, lets it call each target, and reads what its script wrote into the DOM. */
  async function visit(targets: Array<{proxy: string; key?: string}>): Promise<PageResult[][]> {
    const url = `${pageOrigin}/?targets=${encodeURIComponent(JSON.stringify(targets))}`
    const args = [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${profile.dir}`,
      '--virtual-time-budget=10000',
      '--dump-dom',
      url,
    ]
    const dom = await new Promise<string>((resolve, reject) =>
      execFile(chromium!, args, {timeout: 30_000, maxBuffer: 1 << 20}, (error, stdout, stderr) =>
        error ? reject(new Error(`chromium failed: ${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    const out = /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom)?.[1]
    if (!out || out === 'pending') throw new Error(`the page did not finish: ${dom.slice(0, 500)}`)
    return JSON.parse(out.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')) as PageResult[][]
  }

  const run = chromium || mustRun ? it : it.skip
  const why = chromium || mustRun ? '' : ' (skipped: chromium is not installed; with CI=true this test is required)'
  run(
    `a page on another loopback origin cannot use a key-less serve, and reaches one that lists it and has a key${why}`,
    async () => {
      if (!chromium)
        throw new Error('chromium is not installed (apt-get install chromium); this test is required with CI=true')
      // Positive control, in the same page load: a serve that lists the page's origin and has a key, which the page sends.
      const keyed = await startTestProxy(
        {'openai-custom': [openaiInstance(upstream, 'up')]},
        {apiKey: 'page-key-0123456789', corsOrigins: [pageOrigin]},
      )
      try {
        const before = chats()
        const [refused, allowed] = await visit([{proxy: open.url}, {proxy: keyed.url, key: 'page-key-0123456789'}])
        expect(refused!.map((r) => r.name)).toEqual(['text/plain', 'json'])
        for (const result of refused!) expect(result.error, JSON.stringify(result)).toMatch(/Failed to fetch/)
        for (const result of allowed!) {
          expect(result.status, JSON.stringify(result)).toBe(200)
          expect(JSON.parse(result.text!).choices[0].message.content).toEqual(expect.any(String))
        }
        // Only the two allowed calls reached the upstream.
        expect(upstream.calls('chat.completions').length).toBe(before + 2)
        expect(keyed.records).toHaveLength(2)
      } finally {
        await keyed.cleanup()
      }
    },
    90_000,
  )
})
