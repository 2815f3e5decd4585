import {readdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import WebSocket from 'ws'
import {BODY_LOG_LIMIT} from '../../src/core/request-log/capture.js'
import type {RequestLogOptions} from '../../src/core/request-log/request-log.js'
import {startOpenAIFake} from '../fakes/index.js'
import {tempDir} from '../helpers/cli.js'
import {get, openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const harness = useProxyHarness()
let removeDir: (() => Promise<void>) | undefined
afterEach(async () => {
  await removeDir?.()
  removeDir = undefined
})

const POOL_KEY = 'sk-PLANTED-pool-key-0123456789abcdef'
const API_KEY = 'PLANTED-serve-api-key-9876543210'
const FIELD_SECRET = 'PLANTED-field-value-13572468'
const SECRETS = [POOL_KEY, API_KEY, FIELD_SECRET]
const AUTH = {authorization: `Bearer ${API_KEY}`}
const BODY_KEYS = ['requestBody', 'requestBodyTruncated', 'responseBody', 'responseBodyTruncated']

/** The proxy over one fake, logging to a file in a fresh directory. */
async function logging(log: Omit<RequestLogOptions, 'file'>) {
  const {dir, cleanup} = await tempDir()
  removeDir = cleanup
  const file = join(dir, 'requests.jsonl')
  const fake = await startOpenAIFake({name: 'up'})
  harness.fakes.push(fake)
  const proxy = await startTestProxy(
    {'openai-custom': [openaiInstance(fake, 'up', POOL_KEY)]},
    {apiKey: API_KEY, requestLog: {file, ...log}},
  )
  harness.proxy = proxy
  return {dir, file, fake, proxy}
}

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{role: 'user', content: `hello, my keys are ${POOL_KEY} and ${API_KEY}`}],
  api_key: FIELD_SECRET,
  ...extra,
})

/** A plain answer, a stream, upstream errors quoting the key they were sent (relayed, failed over), an unknown route. */
async function plantedTraffic(url: string, fake: Awaited<ReturnType<typeof logging>>['fake']) {
  expect((await post(`${url}/v1/chat/completions`, chat(), AUTH)).status).toBe(200)
  expect((await post(`${url}/v1/chat/completions`, chat({stream: true}), AUTH)).status).toBe(200)
  fake.enqueue({kind: 'status', status: 400, message: `bad request for Bearer ${POOL_KEY}`})
  expect((await post(`${url}/v1/chat/completions`, chat(), AUTH)).status).toBe(400)
  fake.enqueue({kind: 'status', status: 500, message: `server saw Bearer ${POOL_KEY}`})
  expect((await post(`${url}/v1/chat/completions`, chat(), AUTH)).status).toBe(502)
  expect((await get(`${url}/v1/nothing-here`, AUTH)).status).toBe(404)
}

async function linesOf(file: string): Promise<{text: string; lines: Array<Record<string, any>>}> {
  const text = await readFile(file, 'utf8')
  expect(text.endsWith('\n')).toBe(true)
  return {
    text,
    lines: text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line)),
  }
}

function expectNoSecret(text: string) {
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret)
    expect(text).not.toContain(secret.slice(0, 16))
  }
}

describe('serve --log-file', () => {
  it('writes one JSON line per request with the record’s fields, and no secret, into a file only its owner reads', async () => {
    const {file, fake, proxy} = await logging({maxBytes: 10 * 1024 * 1024, bodies: false})
    await plantedTraffic(proxy.url, fake)
    await proxy.stop()
    const {text, lines} = await linesOf(file)
    expect(lines).toHaveLength(5)
    expect(lines).toEqual(
      proxy.records.map((record) => ({
        ...JSON.parse(JSON.stringify(record)),
        time: new Date(record.time).toISOString(),
      })),
    )
    expect(lines[0]).toMatchObject({
      route: '/v1/chat/completions',
      protocol: 'openai',
      type: 'openai-custom',
      instance: 'up',
      instanceId: 'openai-custom/up-uuid-0000',
      model: 'gpt-4o-mini',
      status: 200,
      attempts: 1,
      ms: expect.any(Number),
      stream: false,
    })
    expect(lines[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(lines[1]).toMatchObject({status: 200, stream: true})
    expect(lines[2]).toMatchObject({status: 400})
    expect(lines[3]).toMatchObject({status: 502, error: expect.stringContaining('server saw Bearer sk-…cdef')})
    expect(lines[4]).toMatchObject({route: '/v1/nothing-here', type: null, instance: null, status: 404})
    for (const line of lines) for (const key of BODY_KEYS) expect(line).not.toHaveProperty(key)
    expectNoSecret(text)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
  })

  it('rotates at the size limit without losing or splitting a line, keeping five older files', async () => {
    // Two or so lines to a file (each carries its usage and time to first byte): eight lines need rotation but fit in six files.
    const {dir, file, proxy} = await logging({maxBytes: 1000, bodies: false})
    const models = Array.from({length: 8}, (_, i) => `model-${String(i).padStart(2, '0')}`)
    for (const model of models)
      expect((await post(`${proxy.url}/v1/chat/completions`, chat({model}), AUTH)).status).toBe(200)
    await proxy.stop()
    const names = (await readdir(dir)).sort()
    expect(names.length).toBeGreaterThan(2)
    expect(names.length).toBeLessThanOrEqual(6)
    const texts: string[] = []
    for (const name of [...names.slice(1).reverse(), names[0]!]) {
      expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(1000)
      texts.push(await readFile(join(dir, name), 'utf8'))
    }
    expect(names[0]).toBe('requests.jsonl')
    const lines = texts.join('').trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line).model)).toEqual(models)
    expectNoSecret(texts.join(''))
    expect(file).toBe(join(dir, names[0]!))
  })
})

describe('serve --log-bodies', () => {
  it('adds what the client sent and received, with every secret masked', async () => {
    const {file, fake, proxy} = await logging({maxBytes: 10 * 1024 * 1024, bodies: true})
    await plantedTraffic(proxy.url, fake)
    await proxy.stop()
    const {text, lines} = await linesOf(file)
    expect(lines).toHaveLength(5)
    expectNoSecret(text)
    const [plain, stream, refused, failed, unknown] = lines as [any, any, any, any, any]
    const sent = JSON.parse(plain.requestBody)
    expect(sent.messages[0].content).toBe(`hello, my keys are sk-…cdef and …3210`)
    expect(sent.api_key).toBe('…2468')
    expect(JSON.parse(plain.responseBody)).toMatchObject({object: 'chat.completion', choices: [expect.anything()]})
    expect(stream.responseBody).toMatch(/^data: \{.*\n\n[\s\S]*data: \[DONE\]\n\n$/)
    expect(JSON.parse(refused.responseBody).error.message).toBe('bad request for Bearer sk-…cdef')
    expect(JSON.parse(failed.responseBody).error.message).toContain('server saw Bearer sk-…cdef')
    expect(unknown.requestBody).toBe('')
    expect(JSON.parse(unknown.responseBody).error.message).toBe('Unknown route GET /v1/nothing-here.')
    for (const line of lines) {
      expect(line).not.toHaveProperty('requestBodyTruncated')
      expect(line).not.toHaveProperty('responseBodyTruncated')
    }
  })

  it('keeps the first 64 KiB of a body and marks it cut short', async () => {
    const {file, proxy} = await logging({maxBytes: 10 * 1024 * 1024, bodies: true})
    const long = chat({messages: [{role: 'user', content: 'x'.repeat(BODY_LOG_LIMIT + 1000)}]})
    expect((await post(`${proxy.url}/v1/chat/completions`, long, AUTH)).status).toBe(200)
    await proxy.stop()
    const [line] = (await linesOf(file)).lines
    expect(line!.requestBodyTruncated).toBe(true)
    expect(line!.requestBody).toBe(JSON.stringify(long).slice(0, BODY_LOG_LIMIT))
  })

  it('adds the bodies of a Responses turn over a WebSocket too', async () => {
    const {file, proxy} = await logging({maxBytes: 10 * 1024 * 1024, bodies: true})
    const ws = new WebSocket(`${proxy.url.replace(/^http/, 'ws')}/v1/responses`, {headers: AUTH})
    const events: string[] = []
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        events.push(JSON.parse(String(data)).type)
        if (events.at(-1) === 'response.completed') resolve()
      }),
    )
    await new Promise((resolve) => ws.once('open', resolve))
    ws.send(JSON.stringify({type: 'response.create', model: 'gpt-4o-mini', input: `my key is ${POOL_KEY}`}))
    await done
    ws.close()
    await proxy.stop()
    const {text, lines} = await linesOf(file)
    expectNoSecret(text)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({protocol: 'responses', status: 200, stream: true})
    expect(JSON.parse(lines[0]!.requestBody)).toMatchObject({input: 'my key is sk-…cdef', stream: true})
    expect(lines[0]!.responseBody).toMatch(/^event: response\.created\n[\s\S]*"type":"response\.completed"/)
  })
})
