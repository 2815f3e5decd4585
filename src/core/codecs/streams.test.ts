import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import type {Pair} from '../../../test/fixtures/codecs/requests.js'
import {expectedStreams} from '../../../test/fixtures/codecs/stream-expected.js'
import {streamScenarios} from '../../../test/fixtures/codecs/streams.js'
import {CLIENT_MODEL, convertStream, decodeStream, eventReads} from '../../../test/fixtures/codecs/run-stream.js'
import {parseSse, streamProblems} from '../../../test/fixtures/codecs/validate-stream.js'
import {codecs} from './index.js'
import type {IRStreamEvent} from './ir.js'
import type {Protocol} from './types.js'

const protocols: Protocol[] = ['openai', 'anthropic', 'gemini', 'responses']
const pairs = protocols.flatMap((from) => protocols.map((to) => [from, to] as const))
const bytes = (text: string) => new TextEncoder().encode(text)

function cutAt(data: Uint8Array, cut: number): Uint8Array[] {
  return [data.subarray(0, cut), data.subarray(cut)]
}

function encodeAll(protocol: Protocol, events: IRStreamEvent[], includeUsage = true, id?: string): string {
  const encoder = codecs[protocol].createStreamEncoder({model: CLIENT_MODEL, includeUsage, id})
  return encoder.encode(events) + encoder.finish()
}

beforeEach(() => {
  vi.spyOn(Date, 'now').mockReturnValue(1767225600 * 1000)
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('stream conversions', () => {
  for (const scenario of streamScenarios) {
    describe(scenario.name, () => {
      it.each(pairs)('%s → %s gives the expected bytes in a valid grammar', (from, to) => {
        const out = convertStream(from, to, eventReads(scenario.source[from]))
        expect(streamProblems(to, out)).toEqual([])
        expect(out).toBe(expectedStreams[scenario.name]?.[`${from}->${to}` as Pair])
      })

      it.each(protocols)('the %s decoder gives the same events for every cut of the bytes', (protocol) => {
        const data = bytes(scenario.source[protocol])
        const whole = decodeStream(protocol, [data])
        expect(whole.at(-1)?.type).toBe('message_end')
        for (let cut = 0; cut <= data.length; cut++) expect(decodeStream(protocol, cutAt(data, cut))).toEqual(whole)
        expect(
          decodeStream(
            protocol,
            Array.from(data, (byte) => Uint8Array.of(byte)),
          ),
        ).toEqual(whole)
      })
    })
  }

  it('keeps multi-byte characters whole when a read ends inside one', () => {
    const data = bytes(streamScenarios[0]!.source.openai)
    const inEmoji = data.indexOf(0xf0) + 2
    const events = decodeStream('openai', cutAt(data, inEmoji))
    const text = events.flatMap((event) => (event.type === 'text_delta' ? [event.text] : [])).join('')
    expect(text).toBe('Checking 東京 and Paris 🌍.')
  })
})

describe('stream cost', () => {
  it.each(protocols)('%s: encoding and decoding 10000 fragments in small reads stays fast (linear)', (protocol) => {
    const events: IRStreamEvent[] = [
      {type: 'message_start', id: 'r'},
      {type: 'block_start', index: 0, kind: 'text'},
    ]
    for (let i = 0; i < 10_000; i++) events.push({type: 'text_delta', index: 0, text: `${i % 10}é`})
    events.push({type: 'block_stop', index: 0}, {type: 'message_end', stopReason: 'end_turn'})
    const started = performance.now()
    const encoder = codecs[protocol].createStreamEncoder({model: CLIENT_MODEL})
    const data = bytes(events.map((event) => encoder.encode([event])).join('') + encoder.finish())
    const reads: Uint8Array[] = []
    for (let offset = 0; offset < data.length; offset += 97) reads.push(data.subarray(offset, offset + 97))
    const decoded = decodeStream(protocol, reads)
    const text = decoded.map((event) => (event.type === 'text_delta' ? event.text : '')).join('')
    expect(text.length).toBe(20_000)
    expect(performance.now() - started).toBeLessThan(3_000)
  })
})

describe('OpenAI stream decoder quirks', () => {
  const chunk = (choice: unknown, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({id: 'c1', model: 'm', choices: choice === undefined ? [] : [choice], ...extra})}\n\n`
  const decode = (text: string) => decodeStream('openai', [bytes(text)])

  it('ends cleanly without [DONE] once a finish_reason was seen, and keeps usage from the last choice chunk', () => {
    const events = decode(
      chunk({index: 0, delta: {content: 'hi'}}) +
        chunk({index: 0, delta: {}, finish_reason: 'stop'}, {usage: {prompt_tokens: 3, completion_tokens: 1}}),
    )
    expect(events.at(-1)).toEqual({
      type: 'message_end',
      stopReason: 'end_turn',
      usage: {inputTokens: 3, outputTokens: 1},
    })
  })

  it('reads the choice with index 0 only, an entry without an index counting as 0', () => {
    const choices = (...list: unknown[]) => `data: ${JSON.stringify({id: 'c1', model: 'm', choices: list})}\n\n`
    const events = decode(
      choices({index: 1, delta: {content: 'second choice'}}, {index: 0, delta: {content: 'first'}}) +
        choices({delta: {content: ' and more'}}) +
        choices({index: 2, delta: {content: 'third choice'}}) +
        chunk({index: 0, delta: {}, finish_reason: 'stop'}) +
        'data: [DONE]\n\n',
    )
    expect(events.filter((event) => event.type === 'text_delta').map((event) => event.text)).toEqual([
      'first',
      ' and more',
    ])
  })

  it('separates parallel calls that all claim index 0 but carry new ids', () => {
    const call = (id: string, name: string, args: string) => ({
      index: 0,
      id,
      type: 'function',
      function: {name, arguments: args},
    })
    const events = decode(
      chunk({index: 0, delta: {tool_calls: [call('a', 'f', '{"x":1}')]}}) +
        chunk({index: 0, delta: {tool_calls: [call('b', 'g', '{}')]}}) +
        chunk({index: 0, delta: {}, finish_reason: 'tool_calls'}) +
        'data: [DONE]\n\n',
    )
    expect(events.filter((event) => event.type === 'block_start')).toEqual([
      {type: 'block_start', index: 0, kind: 'tool_call', id: 'a', name: 'f'},
      {type: 'block_start', index: 1, kind: 'tool_call', id: 'b', name: 'g'},
    ])
    expect(events.at(-1)).toMatchObject({type: 'message_end', stopReason: 'tool_use'})
  })

  it('reports tool_use when a server finishes tool calls with "stop"', () => {
    const call = {index: 0, id: 'a', type: 'function', function: {name: 'f', arguments: '{}'}}
    const events = decode(
      chunk({index: 0, delta: {tool_calls: [call]}}) +
        chunk({index: 0, delta: {}, finish_reason: 'stop'}) +
        'data: [DONE]\n\n',
    )
    expect(events.at(-1)).toEqual({type: 'message_end', stopReason: 'tool_use'})
  })

  it('turns an error object into an IR error and stops', () => {
    const rateLimited = 'rate_limit_exceeded'
    const events = decode(
      chunk({index: 0, delta: {content: 'partial'}}) +
        `data: ${JSON.stringify({error: {message: 'Rate limit reached', type: 'requests', code: rateLimited}})}\n\n` +
        chunk({index: 0, delta: {content: 'ignored'}}),
    )
    expect(events.at(-1)).toEqual({type: 'error', message: 'Rate limit reached', kind: 'rate_limit', status: 429})
    expect(events.filter((event) => event.type === 'text_delta')).toHaveLength(1)
  })

  it('reports a stream cut off before any finish_reason as an error', () => {
    expect(decode(chunk({index: 0, delta: {content: 'par'}})).slice(-2)).toEqual([
      {type: 'block_stop', index: 0},
      {type: 'error', message: 'upstream stream ended before completion', kind: 'server', status: 502},
    ])
    expect(decode('')).toEqual([{type: 'error', message: 'upstream stream was empty', kind: 'server', status: 502}])
  })
})

describe('Anthropic stream decoder', () => {
  const event = (type: string, body: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({type, ...body})}\n\n`
  const decode = (text: string) => decodeStream('anthropic', [bytes(text)])
  const usage = {input_tokens: 10, output_tokens: 1}
  const start = event('message_start', {message: {id: 'msg_1', model: 'm', usage}})

  it('skips blocks it cannot carry and keeps indices contiguous', () => {
    const events = decode(
      start +
        event('content_block_start', {
          index: 0,
          content_block: {type: 'server_tool_use', id: 'srv', name: 'web_search', input: {}},
        }) +
        event('content_block_delta', {index: 0, delta: {type: 'input_json_delta', partial_json: '{"q":1}'}}) +
        event('content_block_stop', {index: 0}) +
        event('content_block_start', {index: 1, content_block: {type: 'text', text: ''}}) +
        event('content_block_delta', {index: 1, delta: {type: 'text_delta', text: 'ok'}}) +
        event('content_block_stop', {index: 1}) +
        event('message_delta', {delta: {stop_reason: 'end_turn'}, usage: {output_tokens: 5}}) +
        event('message_stop', {}),
    )
    expect(events).toEqual([
      {type: 'message_start', id: 'msg_1', model: 'm', usage: {inputTokens: 10, outputTokens: 1}},
      {type: 'block_start', index: 0, kind: 'text'},
      {type: 'text_delta', index: 0, text: 'ok'},
      {type: 'block_stop', index: 0},
      {type: 'message_end', stopReason: 'end_turn', usage: {inputTokens: 10, outputTokens: 5}},
    ])
  })

  it('maps an error event to an IR error with the status of its type', () => {
    const events = decode(start + event('error', {error: {type: 'overloaded_error', message: 'Overloaded'}}))
    expect(events.at(-1)).toEqual({type: 'error', message: 'Overloaded', kind: 'overloaded', status: 529})
  })

  it('carries redacted thinking and stop sequences', () => {
    const events = decode(
      start +
        event('content_block_start', {index: 0, content_block: {type: 'redacted_thinking', data: 'opaque'}}) +
        event('content_block_stop', {index: 0}) +
        event('message_delta', {
          delta: {stop_reason: 'stop_sequence', stop_sequence: 'END'},
          usage: {output_tokens: 2},
        }),
    )
    expect(events.slice(1)).toEqual([
      {type: 'block_start', index: 0, kind: 'redacted_thinking', data: 'opaque'},
      {type: 'block_stop', index: 0},
      {
        type: 'message_end',
        stopReason: 'stop_sequence',
        stopSequence: 'END',
        usage: {inputTokens: 10, outputTokens: 2},
      },
    ])
    expect(parseSse(encodeAll('anthropic', events)).map((sse) => JSON.parse(sse.data))).toContainEqual({
      type: 'message_delta',
      delta: {stop_reason: 'stop_sequence', stop_sequence: 'END'},
      usage: {input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0},
    })
  })

  it('reports a stream without message_delta as cut off', () => {
    expect(decode(start).at(-1)).toMatchObject({type: 'error', status: 502})
  })
})

describe('Gemini stream decoder', () => {
  const decode = (...chunks: unknown[]) =>
    decodeStream('gemini', [bytes(chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join(''))])

  it('emits a whole function call as start, one input delta with the full JSON, and stop', () => {
    const events = decode({
      candidates: [
        {
          content: {role: 'model', parts: [{functionCall: {name: 'f', args: {a: [1, 2]}}, thoughtSignature: 'sig'}]},
          finishReason: 'STOP',
        },
      ],
      responseId: 'r-1',
    })
    expect(events).toEqual([
      {type: 'message_start', id: 'r-1'},
      {type: 'block_start', index: 0, kind: 'tool_call', id: 'call_r-1_0', name: 'f', signature: 'sig'},
      {type: 'tool_input_delta', index: 0, json: '{"a":[1,2]}'},
      {type: 'block_stop', index: 0},
      {type: 'message_end', stopReason: 'tool_use'},
    ])
  })

  it('generates distinct ids for calls when there is no response id', () => {
    const call = {functionCall: {name: 'f', args: {}}}
    const events = decode({candidates: [{content: {role: 'model', parts: [call, call]}, finishReason: 'STOP'}]})
    const ids = events.flatMap((event) => (event.type === 'block_start' ? [event.id] : []))
    expect(ids).toHaveLength(2)
    expect(new Set(ids).size).toBe(2)
    for (const id of ids) expect(id).toMatch(/^call_[A-Za-z0-9]{24}$/)
  })

  it('ends with content_filter for a blocked prompt', () => {
    expect(decode({promptFeedback: {blockReason: 'SAFETY'}, usageMetadata: {promptTokenCount: 4}}).at(-1)).toEqual({
      type: 'message_end',
      stopReason: 'content_filter',
      usage: {inputTokens: 4, outputTokens: 0},
    })
  })

  it('opens with the input counted so far, its cached part included', () => {
    const text = {content: {role: 'model', parts: [{text: 'x'}]}}
    const events = decode({candidates: [text], usageMetadata: {promptTokenCount: 40, cachedContentTokenCount: 30}})
    expect(events[0]).toMatchObject({usage: {inputTokens: 40, outputTokens: 0, cachedInputTokens: 30}})
  })

  it('turns an error object into an IR error', () => {
    expect(decode({error: {code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED'}})).toEqual([
      {type: 'error', message: 'Quota exceeded', kind: 'rate_limit', status: 429},
    ])
  })

  it('reports a stream without finishReason as cut off', () => {
    const events = decode({candidates: [{content: {role: 'model', parts: [{text: 'x'}]}}]})
    expect(events.at(-1)).toMatchObject({type: 'error', status: 502})
  })
})

describe('stream encoders', () => {
  const text: IRStreamEvent[] = [
    {type: 'message_start', id: 'up-1'},
    {type: 'block_start', index: 0, kind: 'text'},
    {type: 'text_delta', index: 0, text: 'Hel'},
  ]
  const error: IRStreamEvent = {type: 'error', message: 'Overloaded', kind: 'overloaded', status: 529}

  it.each(protocols)('%s: finish() closes an unfinished stream in a valid grammar, once', (protocol) => {
    const encoder = codecs[protocol].createStreamEncoder({model: CLIENT_MODEL, includeUsage: true})
    const out = encoder.encode(text) + encoder.finish()
    expect(streamProblems(protocol, out)).toEqual([])
    expect(encoder.finish()).toBe('')
    expect(encoder.encode([{type: 'text_delta', index: 0, text: 'late'}])).toBe('')
  })

  it.each(protocols)('%s: an error event ends the stream in the protocol shape', (protocol) => {
    const encoder = codecs[protocol].createStreamEncoder({model: CLIENT_MODEL, includeUsage: true})
    const out = encoder.encode([...text, error])
    expect(streamProblems(protocol, out)).toEqual([])
    const proxyEvent = codecs[protocol].streamErrorEvent('Overloaded', 529)
    if (protocol === 'responses') {
      // The proxy's own error event cannot number itself; the encoder's is numbered in its stream.
      const last = (sse: string) => {
        const event = parseSse(sse).at(-1)!
        const {sequence_number: _, ...payload} = JSON.parse(event.data) as Record<string, unknown>
        return {event: event.event, payload}
      }
      expect(last(out)).toEqual(last(proxyEvent))
    } else expect(out.endsWith(proxyEvent)).toBe(true)
    expect(encoder.finish()).toBe('')
  })

  it('keeps one id on every OpenAI chunk, generating chatcmpl- ids when the upstream had none', () => {
    const out = encodeAll('openai', [
      {type: 'message_start'},
      ...text.slice(1),
      {type: 'message_end', stopReason: 'end_turn'},
    ])
    const ids = new Set(parseSse(out).flatMap((sse) => (sse.data === '[DONE]' ? [] : [JSON.parse(sse.data).id])))
    expect(ids.size).toBe(1)
    expect([...ids][0]).toMatch(/^chatcmpl-/)
    expect(encodeAll('anthropic', [{type: 'message_start'}])).toMatch(/"id":"msg_/)
  })

  it('prefers the id the proxy chose', () => {
    expect(encodeAll('anthropic', text, true, 'msg_proxy')).toContain('"id":"msg_proxy"')
    expect(encodeAll('gemini', text, true, 'resp-proxy')).toContain('"responseId":"resp-proxy"')
  })

  it('leaves usage out of OpenAI chunks unless the client asked for it', () => {
    const end: IRStreamEvent = {type: 'message_end', stopReason: 'end_turn', usage: {inputTokens: 1, outputTokens: 2}}
    const out = encodeAll('openai', [...text, end], false)
    expect(streamProblems('openai', out, false)).toEqual([])
    expect(out).not.toContain('usage')
  })

  it('numbers OpenAI tool calls by their position in the message, not by block index', () => {
    const out = encodeAll('openai', [
      {type: 'message_start'},
      {type: 'block_start', index: 0, kind: 'thinking'},
      {type: 'thinking_delta', index: 0, text: 'hmm'},
      {type: 'signature_delta', index: 0, signature: 's'},
      {type: 'block_stop', index: 0},
      {type: 'block_start', index: 1, kind: 'tool_call', id: 'toolu_a', name: 'f'},
      {type: 'tool_input_delta', index: 1, json: '{"a":'},
      {type: 'tool_input_delta', index: 1, json: '1}'},
      {type: 'block_stop', index: 1},
      {type: 'block_start', index: 2, kind: 'tool_call', id: 'toolu_b', name: 'g'},
      {type: 'block_stop', index: 2},
      {type: 'message_end', stopReason: 'tool_use'},
    ])
    expect(streamProblems('openai', out)).toEqual([])
    const calls = parseSse(out).flatMap((sse) =>
      sse.data === '[DONE]' ? [] : (JSON.parse(sse.data).choices[0]?.delta.tool_calls ?? []),
    )
    expect(calls).toEqual([
      {index: 0, id: 'toolu_a', type: 'function', function: {name: 'f', arguments: ''}},
      {index: 0, function: {arguments: '{"a":'}},
      {index: 0, function: {arguments: '1}'}},
      {index: 1, id: 'toolu_b', type: 'function', function: {name: 'g', arguments: ''}},
      {index: 1, function: {arguments: '{}'}},
    ])
  })

  it('closes an open Anthropic block before the next one and before message_delta', () => {
    const out = encodeAll('anthropic', [
      {type: 'message_start'},
      {type: 'block_start', index: 0, kind: 'text'},
      {type: 'text_delta', index: 0, text: 'a'},
      {type: 'block_start', index: 1, kind: 'tool_call', id: 't', name: 'f'},
      {type: 'message_end', stopReason: 'tool_use'},
    ])
    expect(streamProblems('anthropic', out)).toEqual([])
  })

  it('collects tool arguments into one Gemini functionCall part', () => {
    const out = encodeAll('gemini', [
      {type: 'message_start', id: 'r'},
      {type: 'block_start', index: 0, kind: 'tool_call', id: 'c', name: 'f'},
      {type: 'tool_input_delta', index: 0, json: '{"city":'},
      {type: 'tool_input_delta', index: 0, json: '"Paris"}'},
      {type: 'block_stop', index: 0},
      {type: 'message_end', stopReason: 'tool_use', usage: {inputTokens: 3, outputTokens: 4, reasoningTokens: 1}},
    ])
    expect(parseSse(out).map((sse) => JSON.parse(sse.data))).toEqual([
      {
        candidates: [
          {
            content: {role: 'model', parts: [{functionCall: {id: 'c', name: 'f', args: {city: 'Paris'}}}]},
            index: 0,
            finishReason: 'STOP',
          },
        ],
        usageMetadata: {promptTokenCount: 3, candidatesTokenCount: 3, totalTokenCount: 7, thoughtsTokenCount: 1},
        modelVersion: CLIENT_MODEL,
        responseId: 'r',
      },
    ])
  })
})
