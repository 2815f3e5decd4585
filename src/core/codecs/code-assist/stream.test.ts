import {Agent, request} from 'undici'
import {afterAll, describe, expect, it} from 'vitest'

import {startCodeAssistFake} from '../../../../test/fakes/code-assist-fake.js'
import type {FakeUpstream, ReplySpec} from '../../../../test/fakes/fake-server.js'
import {startGeminiFake} from '../../../../test/fakes/gemini-fake.js'
import {streamScenarios} from '../../../../test/fixtures/codecs/streams.js'
import {parseSse} from '../../../../test/fixtures/codecs/validate-stream.js'
import {createGeminiStreamDecoder} from '../gemini-stream.js'
import type {IRStreamEvent} from '../ir.js'
import type {StreamDecoder} from '../types.js'
import {createCodeAssistStreamDecoder, createUnwrappingSseTransform} from './index.js'

const encoder = new TextEncoder()
const bytes = (text: string) => encoder.encode(text)

function decode(decoder: StreamDecoder, reads: Uint8Array[]): IRStreamEvent[] {
  return [...reads.flatMap((read) => decoder.push(read)), ...decoder.end()]
}

function transform(reads: Uint8Array[]): string[] {
  const sse = createUnwrappingSseTransform()
  return [...reads.map((read) => sse.push(read)), sse.end()]
}

// The same story as each public Gemini fixture, told the Code Assist way: every event wrapped, plus a keep-alive,
// an event whose JSON does not parse, and (when `missing`) an envelope without a response.
function codeAssistSource(publicSse: string, eol: string, missing = false): string {
  const events = parseSse(publicSse).map((event) => `data: {"response":${event.data},"traceId":"trace-1"}${eol}${eol}`)
  const extras = [`: keep-alive${eol}${eol}`, `data: {"response":{"candid${eol}${eol}`]
  if (missing) extras.push(`data: {"traceId":"trace-1","consumedCredits":1}${eol}${eol}`)
  return [events[0], ...extras, ...events.slice(1)].join('')
}

const EOLS = {CRLF: '\r\n', LF: '\n'}
const partial = '{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}'

const cases = streamScenarios.flatMap((scenario) =>
  (['CRLF', 'LF'] as const).map((name) => [`${scenario.name} (${name})`, scenario.source.gemini, EOLS[name]] as const),
)

describe('createCodeAssistStreamDecoder', () => {
  it.each(cases)('%s: decodes like the Gemini decoder, at every cut', (_, publicSse, eol) => {
    const data = bytes(codeAssistSource(publicSse, eol))
    const expected = decode(createGeminiStreamDecoder(), [bytes(publicSse)])
    expect(expected.at(-1)?.type).toBe('message_end')
    expect(decode(createCodeAssistStreamDecoder(), [data])).toEqual(expected)
    for (let cut = 0; cut <= data.length; cut++) {
      expect(decode(createCodeAssistStreamDecoder(), [data.subarray(0, cut), data.subarray(cut)])).toEqual(expected)
    }
    expect(
      decode(
        createCodeAssistStreamDecoder(),
        Array.from(data, (byte) => Uint8Array.of(byte)),
      ),
    ).toEqual(expected)
  })

  it('skips events whose JSON does not parse, and reports them', () => {
    const dropped: string[] = []
    const source = codeAssistSource(streamScenarios[0]!.source.gemini, '\r\n')
    decode(createCodeAssistStreamDecoder({onDropped: (field) => dropped.push(field)}), [bytes(source)])
    expect(dropped).toEqual(['unparseable stream chunk'])
  })

  it('reads an envelope without a response as a chunk without candidates', () => {
    const publicSse = streamScenarios[0]!.source.gemini
    const expected = decode(createGeminiStreamDecoder(), [bytes(publicSse)])
    expect(decode(createCodeAssistStreamDecoder(), [bytes(codeAssistSource(publicSse, '\n', true))])).toEqual(expected)
  })

  it('turns an {"error"} event into an IR error', () => {
    const source =
      `data: {"response":${partial},"traceId":"t-9"}\r\n\r\n` +
      'data: {"error":{"code":429,"message":"Capacity exhausted.","status":"RESOURCE_EXHAUSTED"}}\r\n\r\n'
    expect(decode(createCodeAssistStreamDecoder(), [bytes(source)])).toEqual([
      {type: 'message_start', id: 't-9'},
      {type: 'block_start', index: 0, kind: 'text'},
      {type: 'text_delta', index: 0, text: 'Hel'},
      {type: 'error', kind: 'rate_limit', status: 429, message: 'Capacity exhausted.'},
    ])
  })

  it('reports a stream cut off before its last event', () => {
    const source = `data: {"response":${partial},"traceId":"t"}\n\n`
    expect(decode(createCodeAssistStreamDecoder(), [bytes(source)]).at(-1)).toMatchObject({type: 'error', status: 502})
  })
})

describe('createUnwrappingSseTransform', () => {
  it.each(cases)('%s: gives the public events, whatever the reads', (_, publicSse, eol) => {
    const data = bytes(codeAssistSource(publicSse, eol, true))
    const whole = transform([data]).join('')
    const events = parseSse(whole).map((event) => JSON.parse(event.data))
    expect(events).toEqual([
      ...parseSse(publicSse)
        .slice(0, 1)
        .map((event) => JSON.parse(event.data)),
      {candidates: [], responseId: 'trace-1'},
      ...parseSse(publicSse)
        .slice(1)
        .map((event) => JSON.parse(event.data)),
    ])
    expect(whole).toMatch(/^(data: [^\n]+\n\n)+$/)
    for (let cut = 0; cut <= data.length; cut += 7) {
      expect(transform([data.subarray(0, cut), data.subarray(cut)]).join('')).toBe(whole)
    }
  })

  it('writes once per read, holding back only an unfinished event', () => {
    const first = 'data: {"response":{"candidates":[]},"traceId":"a"}\r\n\r\n'
    const second = 'data: {"response":{"candidates":[]},"traceId":"b"}\r\n\r\n'
    const out = transform([bytes(first + second.slice(0, 10)), bytes(second.slice(10))])
    expect(out).toEqual([
      'data: {"candidates":[],"responseId":"a"}\n\n',
      'data: {"candidates":[],"responseId":"b"}\n\n',
      '',
    ])
  })

  it('passes {"error"} events on unchanged', () => {
    const error = '{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}'
    expect(transform([bytes(`data: ${error}\r\n\r\n`)]).join('')).toBe(`data: ${error}\n\n`)
  })
})

describe('against the fakes', () => {
  const agent = new Agent({keepAliveTimeout: 10, keepAliveMaxTimeout: 10})
  afterAll(() => agent.close())

  async function streamFrom(fake: FakeUpstream, path: string, body: unknown): Promise<Uint8Array[]> {
    const res = await request(`${fake.url}${path}`, {
      dispatcher: agent,
      method: 'POST',
      headers: {'content-type': 'application/json', authorization: 'Bearer t', 'x-goog-api-key': 'k'},
      body: JSON.stringify(body),
    })
    expect(res.statusCode).toBe(200)
    const reads: Uint8Array[] = []
    for await (const chunk of res.body) reads.push(chunk as Buffer)
    return reads
  }

  const reply: ReplySpec = {
    thinking: {text: 'Let me think…', signature: 'sig-1'},
    text: 'It is 21°C in 東京 🌤.',
    toolCalls: [{id: 'c1', name: 'get_weather', arguments: {city: 'Tokyo'}}],
    usage: {input: 40, output: 12, reasoning: 4},
    chunkSize: 3,
  }
  const contents = [{role: 'user', parts: [{text: 'Weather?'}]}]

  it('unwraps the Code Assist stream into what the public Gemini API sends for the same answer', async () => {
    const [codeAssist, gemini] = await Promise.all([
      startCodeAssistFake({script: {fallback: {kind: 'reply', reply}}}),
      startGeminiFake({script: {fallback: {kind: 'reply', reply}}}),
    ])
    try {
      const envelope = {model: 'gemini-2.5-pro', project: 'fake-project-123', request: {contents}}
      const wrapped = await streamFrom(codeAssist, '/v1internal:streamGenerateContent?alt=sse', envelope)
      const publicPath = '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse'
      const publicReads = await streamFrom(gemini, publicPath, {contents})
      const publicSse = Buffer.concat(publicReads).toString('utf8')
      const unwrapped = transform(wrapped).join('')
      const json = (text: string) => parseSse(text).map((event) => JSON.parse(event.data))
      expect(json(unwrapped)).toEqual(json(publicSse))
      expect(json(unwrapped).length).toBeGreaterThan(3)
      expect(decode(createCodeAssistStreamDecoder(), wrapped)).toEqual(decode(createGeminiStreamDecoder(), publicReads))
    } finally {
      await Promise.all([codeAssist.close(), gemini.close()])
    }
  })
})
